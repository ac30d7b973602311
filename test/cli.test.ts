// The `cellscan` command line on tiny settings: every command runs, writes what it says, and
// usage mistakes exit with status 2 and a message.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-cli-'));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
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
  expect(badBackend.err).toMatch(/useBackend: name must be one of "native", "wasm", "auto", got "gpu"/);
});
