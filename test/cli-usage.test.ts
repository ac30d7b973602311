// How the command line talks to its user: help on request, one line and status 2 for a mistake
// (before any work), negative numbers that reach the range checks, progress in a log, and a bench
// run of part of the suite that leaves the committed full report alone. Each case spawns
// `node dist/cli.js` (built by `npm test`'s pretest) and checks the status and the exact text.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { COMMANDS, USAGE, usageOf } from '../src/cli/usage';

const cli = path.resolve(__dirname, '..', 'dist', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-usage-'));
const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);
fs.writeFileSync(path.join(dir, 'text.txt'), text);
const tiny = ['--hidden', '8', '--layers', '1', '--embed', '4', '--seq', '8', '--batch', '2'];

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** A usage mistake: status 2, nothing on stdout, exactly `line` on stderr (no stack, no usage). */
function refused(args: string[], line: string): void {
  const r = run(...args);
  expect({ args, status: r.status, out: r.out, err: r.err }).toEqual({ args, status: 2, out: '', err: `${line}\n` });
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('help', () => {
  test.each([['--help'], ['-h'], ['help']])('cellscan %s prints the whole usage to stdout and exits 0', (flag) => {
    const r = run(flag);
    expect([r.status, r.err]).toEqual([0, '']);
    expect(r.out).toBe(`${USAGE}\n`);
    for (const c of COMMANDS) expect(r.out).toContain(`\n  ${c} `);
  });

  test.each(COMMANDS.map((c) => [c]))('cellscan %s --help prints its own section and exits 0', (command) => {
    const r = run(command, '--help');
    expect({ status: r.status, err: r.err, out: r.out }).toEqual({ status: 0, err: '', out: `${usageOf(command)}\n` });
  });

  test('-h, help <command>, and --help among other flags say the same', () => {
    for (const args of [['train', '-h'], ['help', 'train'], ['train', '--text', 'missing.txt', '--lr', '-1', '--help']]) {
      const r = run(...args);
      expect({ args, status: r.status, err: r.err, out: r.out }).toEqual({ args, status: 0, err: '', out: `${usageOf('train')}\n` });
    }
  });

  test('the bench section lists every flag the bench takes, and where a subset goes', () => {
    const bench = usageOf('bench');
    for (const flag of ['--shapes', '--backends', '--backend', '--peers', '--threads', '--time', '--peer-budget', '--wasm-section', '--out']) {
      expect(bench).toContain(flag);
    }
    expect(bench).toContain('bench/out/RESULTS-subset.md');
  });

  test('no command and an unknown one are mistakes that point to the help, not reprint it', () => {
    const commands = COMMANDS.join(', ');
    refused([], `cellscan: give a command: ${commands} (see \`cellscan --help\`)`);
    refused(['frobnicate'], `cellscan: unknown command "frobnicate"; the commands are ${commands} (see \`cellscan --help\`)`);
    refused(['train', '--text', 'text.txt', '--bogus'], 'cellscan: train has no option --bogus (see `cellscan train --help`)');
  });
});

describe('files are checked before any work', () => {
  // --backend gpu would be refused the moment a backend is set up: the file's error shows it was not.
  test('a missing --text, --model or log is one line naming the flag and the file', () => {
    refused(['train', '--text', 'missing.txt', '--backend', 'gpu'], 'cellscan: --text: cannot read missing.txt: it does not exist');
    refused(['sample', '--model', 'missing.safetensors', '--backend', 'gpu'], 'cellscan: --model: cannot read missing.safetensors: it does not exist');
    refused(['sample', '--model', '.'], 'cellscan: --model: cannot read .: it is a folder, not a file');
    const foreign = run('sample', '--model', 'text.txt');
    expect([foreign.status, foreign.out]).toEqual([2, '']);
    expect(foreign.err).toMatch(/^cellscan: --model: text\.txt is not a checkpoint written by `cellscan train` \(loadSafetensors: [^\n]*\)\n$/);
    refused(['train', '--text', 'text.txt', '--model', 'none.safetensors', '--resume'], 'cellscan: --resume: --model none.safetensors does not exist');
    refused(['plot', 'missing.json'], 'cellscan: plot: cannot read missing.json: it does not exist');
  });

  test('a missing folder for --out, --model or --log is one line before a backend loads or a step trains', () => {
    const nowhere = path.join(fs.realpathSync(dir), 'nowhere');
    const missing = (flag: string, file: string) => `cellscan: ${flag}: cannot write ${file}: its folder ${nowhere} does not exist`;
    const file = (name: string) => path.join('nowhere', name);
    refused(['demo', '--out', file('a.svg'), '--backend', 'gpu'], missing('--out', file('a.svg')));
    refused(['corpus', '--out', file('c.txt')], missing('--out', file('c.txt')));
    refused(['plot', 'missing.json', '--out', file('p.svg')], missing('--out', file('p.svg')));
    refused(['train', '--text', 'text.txt', '--model', file('m.safetensors'), '--backend', 'gpu'], missing('--model', file('m.safetensors')));
    refused(['train', '--text', 'text.txt', '--model', 'm.safetensors', '--log', file('l.json'), '--backend', 'gpu'], missing('--log', file('l.json')));
    refused(['bench', '--shapes', 'S9', '--out', file('R.md')], `${missing('--out', file('R.md'))} (see \`cellscan bench --help\`)`);
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'm.safetensors'))).toBe(false);
  });

  test('--backend and --threads are checked as flags: one line naming the flag, no stack', () => {
    refused(['info', '--backend', 'gpu'], 'cellscan: --backend must be auto, native or wasm, got "gpu"');
    refused(['info', '--threads', '300'], 'cellscan: --threads must be an integer in 1..256, got "300"');
    refused(['info', '--threads', '1.5'], 'cellscan: --threads must be an integer in 1..256, got "1.5"');
    refused(['demo', '--threads', '0'], 'cellscan: --threads must be an integer in 1..256, got "0"');
    refused(['worker', '--redis', 'redis://127.0.0.1:1', '--threads', '300'], 'cellscan: --threads must be an integer in 1..256, got "300"');
    refused(['worker', '--redis', 'redis://127.0.0.1:1', '--backend', 'gpu'], 'cellscan: --backend must be auto, native or wasm, got "gpu"');
  });

  test('a forced backend that cannot load: its reason, the paths tried and the build command, status 1, no stack', () => {
    const r = spawnSync(process.execPath, [cli, 'demo', '--backend', 'native', '--steps', '1'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CELLSCAN_ADDON_PATH: path.join(dir, 'no-such-addon.node') },
    });
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^cellscan: the native backend was requested but cannot be used: no addon binary can be used/);
    expect(r.stderr).toContain(path.join(dir, 'no-such-addon.node'));
    expect(r.stderr).toContain('npx cellscan build-native');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const info = spawnSync(process.execPath, [cli, 'info'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CELLSCAN_ADDON_PATH: path.join(dir, 'no-such-addon.node'), CELLSCAN_BACKEND: 'native' },
    });
    expect([info.status, info.stderr]).toEqual([1, '']);
    expect(info.stdout).toMatch(/^native +unavailable: no addon binary can be used/m);
    expect(info.stdout).toContain(path.join(dir, 'no-such-addon.node'));
    expect(info.stdout).toMatch(/^in use: none \(the native backend was requested but cannot be used: /m);
  });
});

describe('negative numbers', () => {
  test('reach the range checks, which name the flag, what it takes and what it got', () => {
    const train = ['train', '--text', 'text.txt', '--model', 'neg.safetensors'];
    refused([...train, '--lr', '-1'], 'cellscan: --lr must be a positive number, got "-1"');
    refused([...train, '--steps', '-5'], 'cellscan: --steps must be a positive integer, got "-5"');
    refused([...train, '--recurrent-dropout', '-0.1'], 'cellscan: --recurrent-dropout must be a number in [0, 1], got "-0.1"');
    refused([...train, '--zoneout', '-0.1,0.2'], 'cellscan: --zoneout must be a number in [0, 1] or two, H,C (hidden, cell), got "-0.1,0.2"');
    refused(['demo', '--lr', '-1e-3'], 'cellscan: --lr must be a positive number, got "-1e-3"');
    refused(['bench', '--threads', '-2'], 'cellscan: --threads must be a positive integer, got "-2" (see `cellscan bench --help`)');
  });

  test('boolean flags stay booleans: beside a number they are flags, and they take no number', () => {
    refused(['train', '--text', 'text.txt', '--model', 'neg.safetensors', '--residual', '--lr', '-1'], 'cellscan: --lr must be a positive number, got "-1"');
    refused(['train', '--text', 'text.txt', '--resume', '-1'], "cellscan: Option '--resume' does not take an argument (see `cellscan train --help`)");
  });
});

test('train piped to a log prints a line every --every steps and one per checkpoint saved', () => {
  const r = run('train', '--text', 'text.txt', '--steps', '4', '--every', '2', '--valid', '0', '--model', 'log.safetensors', ...tiny);
  expect([r.status, r.err]).toEqual([0, '']);
  const lines = r.out.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^LSTM 1x8, plain; 900 characters to train on, 0 held out; (native|wasm) backend$/);
  expect(lines.slice(1, 5).map((l) => l.replace(/\d+\.\d+/g, 'N').replace(/, N s$/, ''))).toEqual([
    'step 2: train loss N',
    'saved log.safetensors (step 2)',
    'step 4: train loss N',
    'saved log.safetensors (step 4)',
  ]);
});

// A terminal on stderr shows the progress bar; stdout sent to a file still gets every line.
const script = spawnSync('script', ['--version']).status === 0;
(script ? test : test.skip)('train with the bar on a terminal and stdout in a file still logs every checkpoint saved (needs util-linux script)', () => {
  const command = [process.execPath, cli, 'train', '--text', 'text.txt', '--steps', '4', '--every', '2', '--valid', '0', '--model', 'pty.safetensors', ...tiny]
    .map((a) => `'${a}'`)
    .join(' ');
  const r = spawnSync('script', ['-q', '-e', '-c', `${command} > pty-out.txt`, '/dev/null'], { cwd: dir, encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('4/4 steps');
  const lines = fs.readFileSync(path.join(dir, 'pty-out.txt'), 'utf8').split('\n');
  expect(lines.filter((l) => l.startsWith('saved pty.safetensors (step'))).toEqual(['saved pty.safetensors (step 2)', 'saved pty.safetensors (step 4)']);
});

describe('bench', () => {
  test('a run of a subset writes bench/out/RESULTS-subset.md and leaves bench/RESULTS.md alone', () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'bench-'));
    fs.mkdirSync(path.join(cwd, 'bench'));
    const full = path.join(cwd, 'bench', 'RESULTS.md');
    fs.writeFileSync(full, '# the committed full run\n');
    const r = spawnSync(process.execPath, [cli, 'bench', '--shapes', 'S9', '--peers', 'none', '--time', '50'], { cwd, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(full, 'utf8')).toBe('# the committed full run\n');
    const subset = path.join('bench', 'out', 'RESULTS-subset.md');
    expect(r.stdout).toContain(`wrote ${subset} and ${path.join('bench', 'out', 'RESULTS-subset.svg')}`);
    const report = fs.readFileSync(path.join(cwd, subset), 'utf8');
    expect(report).toContain('Measured ');
    expect(report).toContain(' by `cellscan bench --shapes S9 --peers none --time 50`.');
    // The package ships dist/ and native/ alone: the report cites no document of the repository.
    expect(report).not.toMatch(/SPEC|DESIGN|README|docs\/|PERFORMANCE|\bissues? \d/);
    expect(report).toContain('](RESULTS-subset.svg)');
  });

  test('a subset may not replace the full report; --backend is --backends as the other commands spell it', () => {
    const why = 'give another --out or leave it to the default bench/out/RESULTS-subset.md (see `cellscan bench --help`)';
    refused(['bench', '--shapes', 'S9', '--out', path.join('bench', 'RESULTS.md')],
      `cellscan: --out bench/RESULTS.md holds the full run's report, and this run measures part of the suite (--shapes S9): ${why}`);
    refused(['bench', '--peers', 'none', '--out', path.join('bench', 'RESULTS.md')],
      `cellscan: --out bench/RESULTS.md holds the full run's report, and this run measures part of the suite (--peers none): ${why}`);
    refused(['bench', '--backend', 'gpu'], 'cellscan: --backend: gpu is not available here (unknown backend); loaded: native, wasm (see `cellscan bench --help`)'.replace('native, wasm', loadedList()));
    refused(['bench', '--backend', 'wasm', '--backends', 'native'],
      'cellscan: --backend is another name for --backends: give one, got --backend wasm and --backends native (see `cellscan bench --help`)');
  });
});

/** The backends that load here, as the bench lists them. */
function loadedList(): string {
  const r = run('info');
  return [...r.out.matchAll(/^(native|wasm) +available/gm)].map((m) => m[1]).join(', ');
}
