#!/usr/bin/env node
// cellscan's command line: demo (what `npm start` runs), train and sample a character model (with
// the layers' regularization and a held-out split), the corpus to train it on, plots of training
// logs, info about the backends, the benchmark suite, and building the addon from source.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseArgs } from 'util';
import { Presets, SingleBar } from 'cli-progress';
import { describeNativeBinary } from './backend/native-load';
import { BackendUnavailableError, backends, currentBackend, setNumThreads, useBackend } from './backend/select';
import { attachNegativeNumbers } from './cli/argv';
import { buildNativeCommand } from './cli/build-native';
import { readable, writableFolder } from './cli/files';
import { backendFlag, positiveFlag, threadsFlag } from './cli/flags';
import { COMMANDS, USAGE, usageOf } from './cli/usage';
import { UsageError, usageMistake } from './cli/usage-error';
import { type Cell } from './demo/adding';
import {
  bestValid,
  CharModel,
  type CharModelConfig,
  type CurvePoint,
  describeRegularization,
  loadCheckpoint,
  saveCheckpoint,
  type TrainSettings,
  trainStep,
  vocabularyOf,
} from './demo/charlm';
import { generateCorpus } from './demo/corpus';
import { runDemo } from './demo/demo-command';
import { lossCurvesSvg } from './demo/loss-curves-svg';
import { comparisonTable, formatSeconds, makeTrainLog, parseTrainLog } from './demo/train-log';
import { sweepCommand, workerCommand } from './queue/commands';
import { writeFileAtomic } from './io/atomic-write';
import { Rng } from './random';
import { Adam } from './train/optimizers';


/** A probability: in [0, 1], or [0, 1) when `below1`. */
function probability(values: Record<string, unknown>, key: string, below1 = false): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!(n >= 0 && (below1 ? n < 1 : n <= 1))) {
    throw new UsageError(`--${key} must be a number in [0, ${below1 ? '1)' : '1]'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** --zoneout P or H,C: a number, or { hidden, cell } when the two differ. */
function zoneoutFlag(values: Record<string, unknown>, cell: 'lstm' | 'gru'): CharModelConfig['zoneout'] {
  const v = values.zoneout;
  if (v === undefined) return undefined;
  const parts = String(v).split(',');
  const ns = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (parts.length > 2 || !ns.every((n) => n >= 0 && n <= 1)) {
    throw new UsageError(`--zoneout must be a number in [0, 1] or two, H,C (hidden, cell), got ${JSON.stringify(v)}`);
  }
  const [hidden, c = hidden] = ns;
  if (c === hidden) return hidden;
  if (cell === 'gru' && c === 0) return hidden;
  if (cell === 'gru') throw new UsageError(`--zoneout H,C needs --cell lstm (a GRU has no cell state), got ${JSON.stringify(v)} with --cell gru`);
  return { hidden, cell: c };
}

function commonSetup(values: Record<string, unknown>): void {
  const backend = backendFlag(values);
  const threads = threadsFlag(values);
  if (backend !== undefined) useBackend(backend);
  if (threads !== undefined) setNumThreads(threads);
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
  const out = values.out ?? 'adding-problem.svg';
  writableFolder('--out', out);
  commonSetup(values);
  const cells = (values.cell ?? 'lstm,gru,rnn').split(',').map((c) => c.trim().toLowerCase());
  for (const c of cells) {
    if (c !== 'lstm' && c !== 'gru' && c !== 'rnn') throw new UsageError(`--cell must list lstm, gru or rnn, got ${JSON.stringify(c)}`);
  }
  runDemo({
    cells: cells as Cell[],
    length: positiveFlag(values, 'length', 50),
    steps: positiveFlag(values, 'steps', 2500),
    hidden: positiveFlag(values, 'hidden', 64),
    batch: positiveFlag(values, 'batch', 64),
    lr: positiveFlag(values, 'lr', 3e-3, false),
    seed: positiveFlag(values, 'seed', 1),
    out,
    progress: process.stderr.isTTY === true,
  });
}

/** The regularization flags given on the command line (absent ones left out). */
function regularizationFlags(values: Record<string, unknown>, cell: 'lstm' | 'gru'): Partial<CharModelConfig> {
  const given: Partial<CharModelConfig> = {
    residual: values.residual as boolean | undefined,
    zoneout: zoneoutFlag(values, cell),
    recurrentDropout: probability(values, 'recurrent-dropout'),
    weightDropout: probability(values, 'weight-dropout'),
    dropout: probability(values, 'dropout', true),
  };
  for (const key of Object.keys(given) as (keyof CharModelConfig)[]) if (given[key] === undefined) delete given[key];
  return given;
}

const flagOf: Record<string, string> = {
  cell: '--cell',
  embed: '--embed',
  hidden: '--hidden',
  layers: '--layers',
  residual: '--residual',
  zoneout: '--zoneout',
  recurrentDropout: '--recurrent-dropout',
  weightDropout: '--weight-dropout',
  dropout: '--dropout',
};

// `sweep` builds its jobs' flags from this table too.
const trainOptions = {
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
  force: { type: 'boolean' },
  residual: { type: 'boolean' },
  zoneout: { type: 'string' },
  'recurrent-dropout': { type: 'string' },
  'weight-dropout': { type: 'string' },
  dropout: { type: 'string' },
  valid: { type: 'string' },
  log: { type: 'string' },
} as const;

async function train(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: trainOptions });
  if (!values.text) throw new UsageError('train needs --text FILE');
  const cellFlag = (values.cell ?? 'lstm').toLowerCase();
  if (cellFlag !== 'lstm' && cellFlag !== 'gru') throw new UsageError(`--cell must be lstm or gru, got ${JSON.stringify(values.cell)}`);
  const steps = positiveFlag(values, 'steps', 2000);
  const every = positiveFlag(values, 'every', 200);
  const seed = positiveFlag(values, 'seed', 1);
  const out = values.model ?? 'model.safetensors';
  // Every path is checked before any work: a mistake found at the first save would cost the training.
  const text = readable('--text', values.text).toString('utf8');
  if (values.resume && values.force) throw new UsageError('--resume continues the checkpoint and --force replaces it: give one');
  if (!values.resume && fs.existsSync(out) && !values.force) {
    throw new UsageError(`--model: ${out} exists; --resume continues it, --force replaces it`);
  }
  writableFolder('--model', out);
  if (values.log) writableFolder('--log', values.log);
  if (values.resume && !fs.existsSync(out)) throw new UsageError(`--resume: --model ${out} does not exist`);
  commonSetup(values);

  let model: CharModel;
  let optimizer: Adam;
  let step = 0;
  let curve: CurvePoint[] = [];
  let stored: TrainSettings | undefined;
  let lr = positiveFlag(values, 'lr', 2e-3, false);
  if (values.resume) {
    // The resumed steps draw their masks from a stream of their own (seeded by --seed and the
    // checkpoint's step), not the first steps' masks again.
    const c = checkpointOf(out, () => loadCheckpoint(readable('--model', out), values.lr === undefined ? undefined : lr, seed));
    ({ model, optimizer, step, lr } = c);
    curve = c.curve ?? [];
    stored = c.settings;
    // The model is the checkpoint's: a flag that shapes it may repeat it, not change it.
    const given: Partial<CharModelConfig> = { ...regularizationFlags(values, model.config.cell) };
    if (values.cell !== undefined) given.cell = cellFlag;
    for (const key of ['embed', 'hidden', 'layers'] as const) if (values[key] !== undefined) given[key] = positiveFlag(values, key, 1);
    for (const [key, v] of Object.entries(given)) {
      const had = model.config[key as keyof CharModelConfig];
      if (JSON.stringify(v) !== JSON.stringify(had)) {
        throw new UsageError(`${flagOf[key]}: --resume continues the checkpoint's model, which has ${key} ${JSON.stringify(had)}; got ${JSON.stringify(v)}`);
      }
    }
    console.log(`resumed ${out} at step ${step}`);
  } else {
    model = new CharModel(
      {
        cell: cellFlag,
        vocab: vocabularyOf(text),
        embed: positiveFlag(values, 'embed', 64),
        hidden: positiveFlag(values, 'hidden', 256),
        layers: positiveFlag(values, 'layers', 2),
        ...regularizationFlags(values, cellFlag),
      },
      seed,
    );
    optimizer = new Adam(model.modules, { lr });
  }
  // A resumed run keeps its window, batch and held-out split unless told otherwise.
  const seq = positiveFlag(values, 'seq', stored?.seq ?? 64);
  const batch = positiveFlag(values, 'batch', stored?.batch ?? 32);
  const validFraction = values.valid === undefined ? (stored?.valid ?? 0.1) : probability(values, 'valid', true)!;
  const settings: TrainSettings = { seq, batch, valid: validFraction };

  // The held-out split: the last `validFraction` of the characters, never trained on.
  const ids = model.encode(text);
  const nValid = Math.floor(ids.length * validFraction);
  const trainIds = ids.subarray(0, ids.length - nValid);
  const validIds = ids.subarray(ids.length - nValid);
  if (validFraction > 0 && nValid < 2) {
    throw new UsageError(`--valid ${validFraction} must hold out at least 2 characters, got ${nValid} of the text's ${ids.length}`);
  }
  if (trainIds.length < seq + 2) {
    throw new UsageError(`--text must hold more than --seq + 1 = ${seq + 1} characters for training, got ${trainIds.length}` +
      (nValid > 0 ? ` (after holding out ${nValid} with --valid ${validFraction})` : ''));
  }
  console.log(
    `${model.config.cell.toUpperCase()} ${model.config.layers}x${model.config.hidden}, ${describeRegularization(model.config)}; ` +
      `${trainIds.length} characters to train on, ${nValid} held out; ${currentBackend()} backend`,
  );

  const rng = new Rng(seed + step);
  const tty = process.stderr.isTTY === true;
  const bar = new SingleBar(
    { format: ' {bar} {value}/{total} steps | loss {loss} | {rate} chars/s', hideCursor: true, noTTYOutput: false },
    Presets.shades_classic,
  );
  if (tty) bar.start(steps, step, { loss: '-', rate: '-' });
  const say = (line: string) => {
    if (tty) process.stderr.write('\r\x1b[K');
    console.log(line);
    if (tty) bar.render();
  };
  const started = Date.now();
  const secondsBefore = curve.length > 0 ? curve[curve.length - 1].seconds : 0;
  const first = step;
  let smoothed: number | undefined;
  let sum = 0;
  let count = 0;
  const writeLog = () => {
    if (!values.log) return;
    const log = makeTrainLog({
      text: values.text!,
      config: model.config,
      settings: { ...settings, lr, seed, every, steps },
      backend: currentBackend(),
      curve,
    });
    writeFileAtomic(values.log, JSON.stringify(log, null, 1) + '\n');
  };
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(130);  // a second Ctrl-C: the user wants out now
    interrupted = true;
  };
  process.on('SIGINT', onInterrupt);
  while (step < steps) {
    // A turn of the event loop per step: the layers that each optimizer step replaces are freed by
    // finalizers, which run only there (a loop that never yields grows by the weights' packed size
    // every step: ~11 MB for an LSTM 2x256).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const loss = trainStep(model, optimizer, trainIds, seq, batch, 5, rng);
    step++;
    sum += loss;
    count++;
    smoothed = smoothed === undefined ? loss : 0.95 * smoothed + 0.05 * loss;
    const rate = (((step - first) * seq * batch) / ((Date.now() - started) / 1000)).toFixed(0);
    if (tty) bar.update(step, { loss: smoothed.toFixed(3), rate });
    if (step % every === 0 || step === steps) {
      const validLoss = nValid > 0 ? model.evaluate(validIds, seq) : null;
      const point = { step, trainLoss: sum / count, validLoss, seconds: secondsBefore + (Date.now() - started) / 1000 };
      curve.push(point);
      sum = count = 0;
      const best = bestValid(curve);
      say(
        `step ${step}: train loss ${point.trainLoss.toFixed(3)}` +
          (validLoss === null ? '' : `, valid loss ${validLoss.toFixed(3)} (best ${best!.validLoss.toFixed(3)} at step ${best!.step})`) +
          `, ${formatSeconds(point.seconds)}`,
      );
      writeFileAtomic(out, saveCheckpoint({ model, optimizer, step, curve, settings }, lr));
      writeLog();
      // The bar shows saves on a terminal; a log (stdout piped or redirected) needs its own line.
      if (!tty || !process.stdout.isTTY) console.log(`saved ${out} (step ${step})`);
    }
    if (interrupted && step < steps) {
      // Ctrl-C: the step under way has finished; keep it rather than lose the steps since the last save.
      writeFileAtomic(out, saveCheckpoint({ model, optimizer, step, curve, settings }, lr));
      writeLog();
      if (tty) bar.stop();
      console.log(`interrupted: saved ${path.resolve(out)} at step ${step}; --resume continues it`);
      process.off('SIGINT', onInterrupt);
      return 130;
    }
  }
  process.off('SIGINT', onInterrupt);
  if (tty) bar.stop();
  writeLog();
  const best = bestValid(curve);
  if (step === first) console.log(`nothing to train: the checkpoint is at step ${step}, --steps ${steps}`);
  else console.log(`saved ${path.resolve(out)} (step ${step}, loss ${smoothed?.toFixed(3)}, backend ${currentBackend()})`);
  if (best) console.log(`best valid loss ${best.validLoss.toFixed(3)} at step ${best.step}`);
  if (values.log) console.log(`log written to ${path.resolve(values.log)}`);
  return 0;
}

/** What `load` returns, or a UsageError saying that --model `file` is no checkpoint and why. */
function checkpointOf<T>(file: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof UsageError || !(e instanceof TypeError || e instanceof RangeError)) throw e;
    throw new UsageError(`--model: ${file} is not a checkpoint written by \`cellscan train\` (${e.message})`);
  }
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
  if (!values.model) throw new UsageError('sample needs --model FILE');
  const bytes = readable('--model', values.model);
  commonSetup(values);
  const { model } = checkpointOf(values.model, () => loadCheckpoint(bytes));
  const vocab = [...model.config.vocab];
  const prime = values.prime ?? (vocab.includes('\n') ? '\n' : vocab[0]);
  const text = model.sample(prime, positiveFlag(values, 'length', 300), positiveFlag(values, 'temperature', 0.8, false), new Rng(positiveFlag(values, 'seed', 1)));
  process.stdout.write(prime + text + '\n');
}

function corpus(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: { ...common, out: { type: 'string' }, chars: { type: 'string' }, seed: { type: 'string' } },
  });
  if (!values.out) throw new UsageError('corpus needs --out FILE');
  writableFolder('--out', values.out);
  const chars = positiveFlag(values, 'chars', 200000);
  const text = generateCorpus(chars, positiveFlag(values, 'seed', 1));
  fs.writeFileSync(values.out, text);
  const words = text.split(/[^A-Za-z]+/).filter(Boolean);
  console.log(`wrote ${chars} characters (${text.split('\n').length - 1} paragraphs, ${new Set(words).size} distinct words) to ${path.resolve(values.out)}`);
}

function plot(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...common, out: { type: 'string' }, labels: { type: 'string' }, title: { type: 'string' } },
  });
  if (positionals.length === 0) throw new UsageError('plot needs one or more training logs (LOG.json, from `cellscan train --log`)');
  const labels = values.labels?.split(',') ?? positionals.map((f) => path.basename(f).replace(/\.json$/i, ''));
  if (labels.length !== positionals.length) {
    throw new UsageError(`--labels must name each of the ${positionals.length} logs, got ${labels.length} (${JSON.stringify(values.labels)})`);
  }
  const out = values.out ?? 'curves.svg';
  writableFolder('--out', out);
  const runs = positionals.map((file, i) => ({ label: labels[i], log: parseTrainLog(readable('plot', file).toString('utf8'), file) }));
  console.log(comparisonTable(runs));
  const c = runs[0].log.config;
  const title = values.title ?? `Held-out loss, ${c.cell.toUpperCase()} ${c.layers}x${c.hidden} on ${path.basename(runs[0].log.text)}`;
  fs.writeFileSync(out, lossCurvesSvg(runs.map((r) => ({ label: r.label, curve: r.log.curve })), title));
  console.log(`curves written to ${path.resolve(out)}`);
}

function info(args: string[]): number {
  const { values } = parseArgs({ args, options: common });
  commonSetup(values);
  for (const b of backends()) {
    const binary = b.binary ? `, ${describeNativeBinary(b.binary)}` : '';
    const state = b.available ? `available, ${b.threads} thread(s), features ${b.features.join(' ')}${binary}` : `unavailable: ${b.reason}`;
    console.log(`${b.name.padEnd(7)} ${state}`);
  }
  try {
    console.log(`in use: ${currentBackend()}`);
  } catch (e) {
    if (!(e instanceof BackendUnavailableError)) throw e;
    console.log(`in use: none (${e.message.replace(/^cellscan: /, '')})`);
    return 1;
  }
  return 0;
}

function bench(args: string[]): number {
  const runner = path.join(__dirname, 'bench', 'run.js');
  if (!fs.existsSync(runner)) throw new UsageError(`the benchmark suite is not built (${runner}); run \`npm run build\``);
  // The suite and its peers are the repository's dev dependencies, which an installed package lacks.
  try {
    require.resolve('tinybench', { paths: [path.dirname(runner)] });
  } catch {
    throw new UsageError('bench needs the repository\'s dev dependencies (tinybench, onnxruntime-node, TensorFlow.js), which an installed package does not have: run it in a clone of cellscan, after `npm install`, as `npm run bench`');
  }
  // A full garbage collection between timed tasks (bench/measure.ts settle) needs --expose-gc.
  return spawnSync(process.execPath, ['--expose-gc', runner, ...args], { stdio: 'inherit' }).status ?? 1;
}

const HELP = ['--help', '-h'];

async function main(argv: string[]): Promise<number> {
  const [command, ...given] = argv;
  if (command === undefined) throw new UsageError(`give a command: ${COMMANDS.join(', ')} (see \`cellscan --help\`)`);
  if (HELP.includes(command) || command === 'help') {
    const about = command === 'help' ? given[0] : undefined;
    if (about !== undefined && !COMMANDS.includes(about)) throw new UsageError(`help: unknown command ${JSON.stringify(about)}; the commands are ${COMMANDS.join(', ')}`);
    console.log(about === undefined ? USAGE : usageOf(about));
    return 0;
  }
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are ${COMMANDS.join(', ')} (see \`cellscan --help\`)`);
  const rest = attachNegativeNumbers(given);
  const flags = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (flags.some((a) => HELP.includes(a))) {
    console.log(usageOf(command));
    return 0;
  }
  switch (command) {
    case 'demo':
      demo(rest);
      return 0;
    case 'train':
      return train(rest);
    case 'sample':
      sample(rest);
      return 0;
    case 'corpus':
      corpus(rest);
      return 0;
    case 'plot':
      plot(rest);
      return 0;
    case 'info':
      return info(rest);
    case 'bench':
      return bench(rest);
    case 'worker':
      return workerCommand(rest);
    case 'sweep':
      return sweepCommand(rest, trainOptions);
    case 'build-native':
      return buildNativeCommand(rest);
    default:
      throw new Error(`${command} is in the usage but has no case here`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    // Not a usage mistake nor a bug: the message already says why and which command builds the addon.
    if (e instanceof BackendUnavailableError) {
      console.error(e.message);
      process.exitCode = 1;
      return;
    }
    const line = usageMistake(e, COMMANDS.includes(argv[0]) ? argv[0] : undefined);
    if (line === undefined) throw e;
    console.error(line);
    process.exitCode = 2;
  },
);
