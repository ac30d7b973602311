// The `cellscan` command line on tiny settings: every command runs, writes what it says, and
// usage mistakes exit with status 2 and a message.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSafetensors } from '../src';
import type { CurvePoint } from '../src/demo/charlm';
import { loadCheckpoint } from '../src/demo/charlm';
import { loadedBackends } from './helpers/backends';

const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-cli-'));

// One backend for every run: left to choose, two runs could pick different ones (a measured probe
// decides) and print losses that differ in the last digit.
const env = { ...process.env, CELLSCAN_BACKEND: process.env.CELLSCAN_BACKEND || loadedBackends()[0] };

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', env });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('info lists both backends and the one in use', () => {
  const r = run('info');
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/^native /m);
  expect(r.out).toMatch(/^wasm /m);
  expect(r.out).toMatch(/^in use: (native|wasm)$/m);
});

test('demo trains each cell, prints the table and writes the SVG', () => {
  const r = run('demo', '--steps', '20', '--cell', 'rnn,gru', '--hidden', '8', '--length', '10', '--out', 'curves.svg');
  expect(r.err).toBe('');
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/^\| RNN +\| \d\.\d{4} +\|/m);
  expect(r.out).toMatch(/^\| GRU +\|/m);
  expect(r.out).toContain(`Learning curves written to ${path.join(fs.realpathSync(dir), 'curves.svg')}`);
  const svg = fs.readFileSync(path.join(dir, 'curves.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('<polyline');
});

test('train writes a checkpoint, --resume continues it, sample generates from it', () => {
  fs.writeFileSync(path.join(dir, 'text.txt'), 'hello world, hello cellscan. '.repeat(10));
  const tiny = ['--hidden', '16', '--layers', '1', '--embed', '8', '--seq', '8', '--batch', '4'];
  const first = run('train', '--text', 'text.txt', '--steps', '6', '--every', '3', '--model', 'm.safetensors', ...tiny);
  expect(first.status).toBe(0);
  expect(first.out).toMatch(/saved .*m\.safetensors \(step 6, loss \d/);
  const resumed = run('train', '--text', 'text.txt', '--steps', '9', '--model', 'm.safetensors', '--resume');
  expect(resumed.status).toBe(0);
  expect(resumed.out).toMatch(/resumed m\.safetensors at step 6/);
  expect(resumed.out).toMatch(/\(step 9,/);
  const sampled = run('sample', '--model', 'm.safetensors', '--length', '25', '--prime', 'hello');
  expect(sampled.status).toBe(0);
  expect(sampled.out.trimEnd().length).toBe(30);
  expect(sampled.out.startsWith('hello')).toBe(true);
});

test('bench runs a shape and writes its report', () => {
  const r = run('bench', '--shapes', 'S9', '--peers', 'none', '--time', '50', '--out', 'R.md');
  expect(r.status).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'R.md'), 'utf8')).toMatch(/S9/);
});

test('usage mistakes exit with status 2 and say what is wrong', () => {
  const unknown = run('frobnicate');
  expect(unknown.status).toBe(2);
  expect(unknown.err).toMatch(/^cellscan: unknown command "frobnicate"/);
  const noText = run('train');
  expect(noText.status).toBe(2);
  expect(noText.err).toMatch(/^cellscan: train needs --text FILE/);
  const badSteps = run('demo', '--steps', 'many');
  expect(badSteps.status).toBe(2);
  expect(badSteps.err).toMatch(/^cellscan: --steps must be a positive integer, got "many"/);
  const badBackend = run('info', '--backend', 'gpu');
  expect(badBackend.status).toBe(2);
  expect(badBackend.err).toMatch(/^cellscan: --backend must be auto, native or wasm, got "gpu"$/m);
});

// --- regularization, the held-out split, the corpus and plots (issue "Use them") -------------------

const tinyModel = ['--hidden', '16', '--layers', '2', '--embed', '8', '--seq', '8', '--batch', '4'];
const regularized = ['--residual', '--zoneout', '0.2,0.1', '--recurrent-dropout', '0.3', '--weight-dropout', '0.2', '--dropout', '0.1'];

function corpusFile(name = 'corpus.txt', chars = 3000): string {
  const r = run('corpus', '--out', name, '--chars', String(chars), '--seed', '5');
  expect(r.status).toBe(0);
  return name;
}

function meta(file: string): Record<string, string> {
  return loadSafetensors(fs.readFileSync(path.join(dir, file))).metadata;
}

/** The curve without its timings (which differ from run to run). */
function untimed(curve: CurvePoint[]): Omit<CurvePoint, 'seconds'>[] {
  return curve.map(({ seconds, ...rest }) => {
    expect(seconds).toBeGreaterThan(0);
    return rest;
  });
}

test('train passes the regularization flags to the model; the checkpoint records them, --resume and sample rebuild it', () => {
  const text = corpusFile();
  const r = run('train', '--text', text, '--steps', '4', '--every', '2', '--model', 'reg.safetensors', ...tinyModel, ...regularized);
  expect(r.err).toBe('');
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/^LSTM 2x16, residual, zoneout 0\.2,0\.1, recurrent dropout 0\.3, weight dropout 0\.2, dropout 0\.1;/m);
  const config = JSON.parse(meta('reg.safetensors').config);
  expect(config).toMatchObject({
    cell: 'lstm', hidden: 16, layers: 2, embed: 8,
    residual: true, zoneout: { hidden: 0.2, cell: 0.1 }, recurrentDropout: 0.3, weightDropout: 0.2, dropout: 0.1,
  });
  // What sample and --resume load: the layer has the options again.
  const { model } = loadCheckpoint(fs.readFileSync(path.join(dir, 'reg.safetensors')));
  expect(model.rnn.residual).toBe(true);
  expect(model.rnn.zoneout).toEqual({ hidden: 0.2, cell: 0.1 });
  expect([model.rnn.recurrentDropout, model.rnn.weightDropout, model.rnn.dropout]).toEqual([0.3, 0.2, 0.1]);
  // Resuming keeps the model (repeating a flag is fine), and the checkpoint still records it.
  const resumed = run('train', '--text', text, '--steps', '6', '--model', 'reg.safetensors', '--resume', '--dropout', '0.1');
  expect(resumed.status).toBe(0);
  expect(resumed.out).toMatch(/resumed reg\.safetensors at step 4/);
  expect(resumed.out).toMatch(/^LSTM 2x16, residual, zoneout 0\.2,0\.1, recurrent dropout 0\.3,/m);
  expect(JSON.parse(meta('reg.safetensors').config)).toEqual(config);
  // Changing it is a usage error naming the flag.
  const changed = run('train', '--text', text, '--steps', '8', '--model', 'reg.safetensors', '--resume', '--dropout', '0.5');
  expect(changed.status).toBe(2);
  expect(changed.err).toMatch(/^cellscan: --dropout: --resume continues the checkpoint's model, which has dropout 0\.1; got 0\.5/);
  const sampled = run('sample', '--model', 'reg.safetensors', '--length', '20', '--prime', 'The ');
  expect(sampled.status).toBe(0);
  expect(sampled.out.trimEnd().length).toBe(24);
  // A single zoneout number for a GRU is its hidden zoneout.
  const gru = run('train', '--text', text, '--steps', '2', '--model', 'gru.safetensors', '--cell', 'gru', '--zoneout', '0.3', ...tinyModel);
  expect(gru.status).toBe(0);
  expect(loadCheckpoint(fs.readFileSync(path.join(dir, 'gru.safetensors'))).model.rnn.zoneout).toEqual({ hidden: 0.3, cell: 0 });
});

test('the held-out loss is printed and stored at every checkpoint, repeats exactly, and a resumed run continues the curve', () => {
  const text = corpusFile();
  const args = ['--text', text, '--steps', '6', '--every', '3', '--valid', '0.2', ...tinyModel, ...regularized];
  const a = run('train', ...args, '--model', 'a.safetensors', '--log', 'a.json');
  const b = run('train', ...args, '--model', 'b.safetensors');
  expect(a.status).toBe(0);
  expect(b.status).toBe(0);
  expect(a.out).toMatch(/2400 characters to train on, 600 held out/);
  const printed = (out: string) => [...out.matchAll(/^step (\d+): train loss (\d\.\d{3}), valid loss (\d\.\d{3}) \(best (\d\.\d{3}) at step (\d+)\)/gm)].map((m) => m.slice(1, 6));
  expect(printed(a.out).map((p) => p[0])).toEqual(['3', '6']);
  expect(printed(b.out)).toEqual(printed(a.out));
  const curve = JSON.parse(meta('a.safetensors').curve) as CurvePoint[];
  expect(untimed(curve)).toEqual(untimed(JSON.parse(meta('b.safetensors').curve)));
  expect(curve.map((p) => p.validLoss!.toFixed(3))).toEqual(printed(a.out).map((p) => p[2]));
  expect(curve.map((p) => p.trainLoss.toFixed(3))).toEqual(printed(a.out).map((p) => p[1]));
  const best = curve.reduce((x, y) => (y.validLoss! < x.validLoss! ? y : x));
  expect(a.out).toContain(`best valid loss ${best.validLoss!.toFixed(3)} at step ${best.step}`);
  // The log holds the same curve, the settings and the best point.
  const log = JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'));
  expect(log).toMatchObject({ format: 'cellscan-train-log-1', text, settings: { seq: 8, batch: 4, valid: 0.2, steps: 6, every: 3 } });
  expect(log.curve).toEqual(curve);
  expect(log.best).toEqual({ step: best.step, validLoss: best.validLoss });
  expect(log.regularization).toBe('residual, zoneout 0.2,0.1, recurrent dropout 0.3, weight dropout 0.2, dropout 0.1');
  // Resumed: the same split (from the checkpoint), the curve goes on from where it was.
  const resumed = run('train', '--text', text, '--steps', '9', '--every', '3', '--model', 'a.safetensors', '--resume', '--log', 'a.json');
  expect(resumed.status).toBe(0);
  expect(resumed.out).toMatch(/2400 characters to train on, 600 held out/);
  const continued = JSON.parse(meta('a.safetensors').curve) as CurvePoint[];
  expect(continued.slice(0, 2)).toEqual(curve);
  expect(continued.map((p) => p.step)).toEqual([3, 6, 9]);
  expect(continued[2].seconds).toBeGreaterThan(curve[1].seconds);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')).curve).toEqual(continued);
});

test('--valid 0 trains on the whole text and reports no held-out loss', () => {
  const text = corpusFile();
  const r = run('train', '--text', text, '--steps', '4', '--every', '2', '--valid', '0', '--model', 'v0.safetensors', ...tinyModel);
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/3000 characters to train on, 0 held out/);
  expect(r.out).toMatch(/^step 2: train loss \d\.\d{3}, \d/m);
  expect(r.out).not.toMatch(/valid loss/);
  const curve = JSON.parse(meta('v0.safetensors').curve) as CurvePoint[];
  expect(curve.map((p) => [p.step, p.validLoss])).toEqual([[2, null], [4, null]]);
});

test('bad regularization and split values exit with status 2 and name the flag, what it takes and what it got', () => {
  fs.writeFileSync(path.join(dir, 'short.txt'), 'hello world, hello cellscan. '.repeat(10));
  const cases: [string[], RegExp][] = [
    [['--zoneout', '1.5'], /^cellscan: --zoneout must be a number in \[0, 1\] or two, H,C \(hidden, cell\), got "1\.5"/],
    [['--zoneout', '0.1,0.2,0.3'], /^cellscan: --zoneout must be a number in \[0, 1\] or two, H,C \(hidden, cell\), got "0\.1,0\.2,0\.3"/],
    [['--zoneout', '0.1,0.2', '--cell', 'gru'], /^cellscan: --zoneout H,C needs --cell lstm \(a GRU has no cell state\), got "0\.1,0\.2" with --cell gru/],
    [['--recurrent-dropout=-0.1'], /^cellscan: --recurrent-dropout must be a number in \[0, 1\], got "-0\.1"/],
    [['--weight-dropout', 'lots'], /^cellscan: --weight-dropout must be a number in \[0, 1\], got "lots"/],
    [['--dropout', '1'], /^cellscan: --dropout must be a number in \[0, 1\), got "1"/],
    [['--valid', '1'], /^cellscan: --valid must be a number in \[0, 1\), got "1"/],
    [['--valid', 'some'], /^cellscan: --valid must be a number in \[0, 1\), got "some"/],
    [['--valid', '0.001'], /^cellscan: --valid 0\.001 must hold out at least 2 characters, got 0 of the text's 290/],
    [['--valid', '0.9', '--seq', '64'], /^cellscan: --text must hold more than --seq \+ 1 = 65 characters for training, got 29 \(after holding out 261 with --valid 0\.9\)/],
  ];
  for (const [flags, message] of cases) {
    const r = run('train', '--text', 'short.txt', '--steps', '1', '--model', 'bad.safetensors', ...flags);
    expect([flags, r.status]).toEqual([flags, 2]);
    expect(r.err).toMatch(message);
  }
  expect(fs.existsSync(path.join(dir, 'bad.safetensors'))).toBe(false);
});

test('corpus writes the same text for a seed, another for another seed', () => {
  const a = run('corpus', '--out', 'c1.txt', '--chars', '4000', '--seed', '7');
  expect(a.status).toBe(0);
  expect(a.out).toMatch(/^wrote 4000 characters \(\d+ paragraphs, \d+ distinct words\) to .*c1\.txt$/m);
  run('corpus', '--out', 'c2.txt', '--chars', '4000', '--seed', '7');
  run('corpus', '--out', 'c3.txt', '--chars', '4000', '--seed', '8');
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  expect(read('c1.txt')).toHaveLength(4000);
  expect(read('c2.txt')).toBe(read('c1.txt'));
  expect(read('c3.txt')).not.toBe(read('c1.txt'));
  const bad = run('corpus', '--out', 'c4.txt', '--chars', 'many');
  expect(bad.status).toBe(2);
  expect(bad.err).toMatch(/^cellscan: --chars must be a positive integer, got "many"/);
  expect(run('corpus').err).toMatch(/^cellscan: corpus needs --out FILE/);
});

test('plot prints a table of the runs and writes an SVG with a held-out curve for each', () => {
  const text = corpusFile();
  const common = ['--text', text, '--steps', '4', '--every', '2', ...tinyModel];
  expect(run('train', ...common, '--model', 'p.safetensors', '--log', 'plain.json').status).toBe(0);
  expect(run('train', ...common, ...regularized, '--model', 'r.safetensors', '--log', 'reg.json').status).toBe(0);
  fs.mkdirSync(path.join(dir, 'cmp'));
  const r = run('plot', 'plain.json', 'reg.json', '--out', 'cmp/regularization.svg');
  expect(r.err).toBe('');
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/^\| run +\| regularization +\| steps \| final train loss \| best valid loss \| at step \| final valid loss \| time +\|$/m);
  expect(r.out).toMatch(/^\| plain +\| plain +\| 4 +\| \d\.\d{3} +\| \d\.\d{3} +\| [24] +\| \d\.\d{3} +\| [\d.]+ s +\|$/m);
  expect(r.out).toMatch(/^\| reg +\| residual, zoneout 0\.2,0\.1, recurrent dropout 0\.3, weight dropout 0\.2, dropout 0\.1 \| 4 +\|/m);
  const svg = fs.readFileSync(path.join(dir, 'cmp', 'regularization.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.match(/<polyline class="valid" points="[\d.]+,[\d.]+ [\d.]+,[\d.]+"/g)).toHaveLength(2);
  expect(svg).toContain('>plain</text>');
  expect(svg).toContain('>reg</text>');
  const labelled = run('plot', 'plain.json', 'reg.json', '--labels', 'plain', '--out', 'x.svg');
  expect(labelled.status).toBe(2);
  expect(labelled.err).toMatch(/^cellscan: --labels must name each of the 2 logs, got 1 \("plain"\)/);
  fs.writeFileSync(path.join(dir, 'not-a-log.json'), '{"curve": []}');
  const foreign = run('plot', 'not-a-log.json');
  expect(foreign.status).toBe(2);
  expect(foreign.err).toMatch(/^cellscan: not-a-log\.json must be a training log written by `cellscan train --log` \(format cellscan-train-log-1\), got format undefined/);
});

// ---- checkpoints are never lost, torn or silently replaced ----

describe('train keeps checkpoints safe', () => {
  const small = ['--embed', '8', '--hidden', '16', '--layers', '1', '--seq', '16', '--batch', '4'];
  const sample = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
  beforeAll(() => fs.writeFileSync(path.join(dir, 'safe.txt'), sample));

  test('an existing --model is replaced only with --force, continued only with --resume', () => {
    expect(run('train', '--text', 'safe.txt', '--steps', '2', '--every', '2', '--model', 'keep.safetensors', ...small).status).toBe(0);
    const before = fs.readFileSync(path.join(dir, 'keep.safetensors'));
    const refused = run('train', '--text', 'safe.txt', '--steps', '2', '--model', 'keep.safetensors', ...small);
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(/^cellscan: --model: keep\.safetensors exists; --resume continues it, --force replaces it/);
    expect(refused.out).toBe('');
    expect(fs.readFileSync(path.join(dir, 'keep.safetensors')).equals(before)).toBe(true);
    const both = run('train', '--text', 'safe.txt', '--model', 'keep.safetensors', '--resume', '--force');
    expect(both.err).toMatch(/^cellscan: --resume continues the checkpoint and --force replaces it: give one/);
    const replaced = run('train', '--text', 'safe.txt', '--steps', '1', '--every', '1', '--model', 'keep.safetensors', '--force', ...small);
    expect(replaced.status).toBe(0);
    expect(loadCheckpoint(fs.readFileSync(path.join(dir, 'keep.safetensors'))).step).toBe(1);
    // Written beside it and renamed: no temporary file is left behind.
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('--resume refuses flags that would change the checkpoint\'s model', () => {
    expect(run('train', '--text', 'safe.txt', '--steps', '1', '--every', '1', '--model', 'shape.safetensors', ...small).status).toBe(0);
    const cases: [string[], RegExp][] = [
      [['--hidden', '32'], /^cellscan: --hidden: --resume continues the checkpoint's model, which has hidden 16; got 32/],
      [['--layers', '2'], /^cellscan: --layers: --resume continues the checkpoint's model, which has layers 1; got 2/],
      [['--embed', '4'], /^cellscan: --embed: --resume continues the checkpoint's model, which has embed 8; got 4/],
      [['--cell', 'gru'], /^cellscan: --cell: --resume continues the checkpoint's model, which has cell "lstm"; got "gru"/],
    ];
    for (const [flags, message] of cases) {
      const r = run('train', '--text', 'safe.txt', '--steps', '3', '--model', 'shape.safetensors', '--resume', ...flags);
      expect([flags, r.status]).toEqual([flags, 2]);
      expect(r.err).toMatch(message);
    }
    // Repeating the checkpoint's own values is fine.
    const same = run('train', '--text', 'safe.txt', '--steps', '2', '--model', 'shape.safetensors', '--resume', '--hidden', '16', '--cell', 'lstm');
    expect(same.status).toBe(0);
  });

  test('unreadable --text and unwritable --model or --log folders are refused before any training', () => {
    const cases: [string[], RegExp][] = [
      [['--text', 'missing.txt', '--model', 'x.safetensors'], /^cellscan: --text: cannot read missing\.txt: it does not exist$/m],
      [['--text', 'safe.txt', '--model', path.join('no-such-folder', 'x.safetensors')], /^cellscan: --model: cannot write no-such-folder\/x\.safetensors: its folder .*no-such-folder does not exist/],
      [['--text', 'safe.txt', '--model', 'x.safetensors', '--log', path.join('nowhere', 'log.json')], /^cellscan: --log: cannot write nowhere\/log\.json: its folder .*nowhere does not exist/],
    ];
    for (const [flags, message] of cases) {
      const r = run('train', '--steps', '1', ...flags, ...small);
      expect([flags, r.status]).toEqual([flags, 2]);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });

  test('Ctrl-C saves the steps done so far, exits 130, and --resume continues from there', async () => {
    const child = spawn(process.execPath, [cli, 'train', '--text', 'safe.txt', '--steps', '100000', '--every', '100000', '--model', 'int.safetensors', ...small], {
      cwd: dir,
      env,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Interrupted once it is training (its first line says what it trains on).
    await new Promise<void>((resolve) => {
      const started = () => (/characters to train on/.test(out) ? resolve() : setTimeout(started, 20));
      started();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    const m = /interrupted: saved .*int\.safetensors at step (\d+); --resume continues it/.exec(out);
    expect(m).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThan(0);
    expect(loadCheckpoint(fs.readFileSync(path.join(dir, 'int.safetensors'))).step).toBe(step);
    const resumed = run('train', '--text', 'safe.txt', '--steps', String(step + 1), '--model', 'int.safetensors', '--resume');
    expect(resumed.status).toBe(0);
    expect(resumed.out).toContain(`resumed int.safetensors at step ${step}`);
  });
});
