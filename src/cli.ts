#!/usr/bin/env node
// cellscan's command line: demo (what `npm start` runs), train and sample a character model,
// info about the backends, and the benchmark suite.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import { MultiBar, Presets } from 'cli-progress';
import { backends, currentBackend, setNumThreads, useBackend } from './backend/select';
import { type Cell } from './demo/adding';
import { CharModel, loadCheckpoint, saveCheckpoint, trainStep, vocabularyOf } from './demo/charlm';
import { runDemo } from './demo/demo-command';
import { Rng } from './random';
import { Adam } from './train/optimizers';

const USAGE = `cellscan <command> [options]

  demo     the adding problem: LSTM vs GRU vs RNN (what \`npm start\` runs)
           --cell lstm,gru,rnn  --length 50  --steps 2500  --hidden 64  --batch 64  --lr 0.003
           --seed 1  --out adding-problem.svg
  train    a character-level language model on a text file
           --text FILE (required)  --model model.safetensors  --cell lstm|gru  --hidden 256  --layers 2
           --embed 64  --seq 64  --batch 32  --steps 2000  --lr 0.002  --every 200  --resume  --seed 1
  sample   generate text from a checkpoint
           --model FILE (required)  --length 300  --prime TEXT  --temperature 0.8  --seed 1
  info     backends, CPU features, threads
  bench    the benchmark suite (options as \`npm run bench\`)

common options: --backend auto|native|wasm  --threads N`;

class UsageError extends Error {}

function number(values: Record<string, unknown>, key: string, fallback: number, integer = true): number {
  const v = values[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n <= 0) {
    throw new UsageError(`--${key} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function commonSetup(values: Record<string, unknown>): void {
  if (values.backend !== undefined) useBackend(values.backend as 'auto');
  if (values.threads !== undefined) setNumThreads(number(values, 'threads', 1));
}

const common = {
  backend: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function demo(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      cell: { type: 'string' },
      length: { type: 'string' },
      steps: { type: 'string' },
      hidden: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    },
  });
  commonSetup(values);
  const cells = (values.cell ?? 'lstm,gru,rnn').split(',').map((c) => c.trim().toLowerCase());
  for (const c of cells) {
    if (c !== 'lstm' && c !== 'gru' && c !== 'rnn') throw new UsageError(`--cell must list lstm, gru or rnn, got ${JSON.stringify(c)}`);
  }
  runDemo({
    cells: cells as Cell[],
    length: number(values, 'length', 50),
    steps: number(values, 'steps', 2500),
    hidden: number(values, 'hidden', 64),
    batch: number(values, 'batch', 64),
    lr: number(values, 'lr', 3e-3, false),
    seed: number(values, 'seed', 1),
    out: values.out ?? 'adding-problem.svg',
    progress: process.stderr.isTTY === true,
  });
}

function train(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      text: { type: 'string' },
      model: { type: 'string' },
      cell: { type: 'string' },
      hidden: { type: 'string' },
      layers: { type: 'string' },
      embed: { type: 'string' },
      seq: { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      lr: { type: 'string' },
      every: { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'boolean' },
    },
  });
  commonSetup(values);
  if (!values.text) throw new UsageError('train needs --text FILE');
  const text = fs.readFileSync(values.text, 'utf8');
  const seq = number(values, 'seq', 64);
  const batch = number(values, 'batch', 32);
  const steps = number(values, 'steps', 2000);
  const every = number(values, 'every', 200);
  const seed = number(values, 'seed', 1);
  const out = values.model ?? 'model.safetensors';
  if ([...text].length < seq + 2) throw new UsageError(`--text must hold more than --seq + 1 = ${seq + 1} characters`);

  let model: CharModel;
  let optimizer: Adam;
  let step = 0;
  let lr = number(values, 'lr', 2e-3, false);
  if (values.resume) {
    if (!fs.existsSync(out)) throw new UsageError(`--resume: ${out} does not exist`);
    const c = loadCheckpoint(fs.readFileSync(out), values.lr === undefined ? undefined : lr);
    ({ model, optimizer, step, lr } = c);
    console.log(`resumed ${out} at step ${step}`);
  } else {
    const cell = (values.cell ?? 'lstm').toLowerCase();
    if (cell !== 'lstm' && cell !== 'gru') throw new UsageError(`--cell must be lstm or gru, got ${JSON.stringify(values.cell)}`);
    model = new CharModel(
      {
        cell,
        vocab: vocabularyOf(text),
        embed: number(values, 'embed', 64),
        hidden: number(values, 'hidden', 256),
        layers: number(values, 'layers', 2),
      },
      seed,
    );
    optimizer = new Adam(model.modules, { lr });
  }
  const ids = model.encode(text);
  const rng = new Rng(seed + step);
  const bars = new MultiBar(
    { format: ' {bar} {value}/{total} steps | loss {loss} | {rate} chars/s', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000 },
    Presets.shades_classic,
  );
  const bar = bars.create(steps, step, { loss: '-', rate: '-' });
  const started = Date.now();
  const first = step;
  let smoothed: number | undefined;
  while (step < steps) {
    const loss = trainStep(model, optimizer, ids, seq, batch, 5, rng);
    step++;
    smoothed = smoothed === undefined ? loss : 0.95 * smoothed + 0.05 * loss;
    const rate = (((step - first) * seq * batch) / ((Date.now() - started) / 1000)).toFixed(0);
    bar.update(step, { loss: smoothed.toFixed(3), rate });
    if (step % every === 0 || step === steps) fs.writeFileSync(out, saveCheckpoint({ model, optimizer, step }, lr));
  }
  bars.stop();
  console.log(`saved ${path.resolve(out)} (step ${step}, loss ${smoothed?.toFixed(3)}, backend ${currentBackend()})`);
}

function sample(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      model: { type: 'string' },
      length: { type: 'string' },
      prime: { type: 'string' },
      temperature: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  commonSetup(values);
  if (!values.model) throw new UsageError('sample needs --model FILE');
  const { model } = loadCheckpoint(fs.readFileSync(values.model));
  const vocab = [...model.config.vocab];
  const prime = values.prime ?? (vocab.includes('\n') ? '\n' : vocab[0]);
  const text = model.sample(prime, number(values, 'length', 300), number(values, 'temperature', 0.8, false), new Rng(number(values, 'seed', 1)));
  process.stdout.write(prime + text + '\n');
}

function info(args: string[]): void {
  const { values } = parseArgs({ args, options: common });
  commonSetup(values);
  for (const b of backends()) {
    const state = b.available ? `available, ${b.threads} thread(s), features ${b.features.join(' ')}` : `unavailable: ${b.reason}`;
    console.log(`${b.name.padEnd(7)} ${state}`);
  }
  console.log(`in use: ${currentBackend()}`);
}

function bench(args: string[]): number {
  const runner = path.join(__dirname, 'bench', 'run.js');
  if (!fs.existsSync(runner)) throw new UsageError(`the benchmark suite is not built (${runner}); run \`npm run build\``);
  return spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit' }).status ?? 1;
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h') || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  switch (command) {
    case 'demo':
      demo(rest);
      return 0;
    case 'train':
      train(rest);
      return 0;
    case 'sample':
      sample(rest);
      return 0;
    case 'info':
      info(rest);
      return 0;
    case 'bench':
      return bench(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  const err = e as Error;
  // Usage mistakes and the library's own argument errors are the user's to fix: say so briefly.
  if (err instanceof UsageError || err instanceof TypeError || err instanceof RangeError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`cellscan: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
