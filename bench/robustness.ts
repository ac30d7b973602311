// npm run bench:robustness [-- --rounds 5 --out bench/RESULTS.md]
//
// The native backend where the machine is not as it should be (issue 14): more threads asked for
// than the process has cores, a busy neighbour process on one core, and inputs full of denormal
// numbers. LSTM T=50 B=16 I=H=256 throughout. Each configuration is timed in rounds, in an order
// that alternates, and reported as the median over rounds of each round's median; ratios are
// against the configuration a user would compare with (as many threads as cores, alone; normal
// inputs). Targets: 3 and 8 threads at most 1.15x the time of 2 on 2 cores; denormal inputs less
// than 2x.
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { parseArgs } from 'util';
import { LSTM, Tensor, setNumThreads, useBackend } from 'cellscan';
import { describeMachine } from './machine';
import { positive, SECTION_OUT_FLAG } from './options';
import { placeSection } from './sections';

export const ROBUSTNESS_HEADING = '## Threads beyond the cores, a busy neighbour, denormal inputs';
const T = 50;
const B = 16;
const H = 256;
const CALLS = 20;

interface Config {
  label: string;
  threads: number;
  train: boolean;
  denormal?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function inputs(denormal: boolean): { x: Tensor; dY: Tensor } {
  const x = new Float32Array(T * B * H);
  // 1e-39 is below float32's smallest normal (1.18e-38): every product of it is denormal too.
  for (let i = 0; i < x.length; i++) x[i] = denormal ? (i % 2 ? 1e-39 : -1e-39) : Math.sin(i);
  const dY = new Float32Array(T * B * H).fill(denormal ? 1e-39 : 0.01);
  return { x: new Tensor(x, [T, B, H]), dY: new Tensor(dY, [T, B, H]) };
}

/** Median ms of CALLS calls of `c`, after three untimed ones (the pool restarts on a new count). */
function timeConfig(layer: LSTM, c: Config): number {
  setNumThreads(c.threads);
  const { x, dY } = inputs(c.denormal === true);
  const call = () => {
    if (!c.train) return layer.forward(x);
    const f = layer.forward(x, { training: true });
    return layer.backward(f.tape!, { dOutput: dY });
  };
  for (let i = 0; i < 3; i++) call();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    call();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Each config's median over rounds, the order alternating from round to round. */
function timeConfigs(layer: LSTM, configs: Config[], rounds: number): number[] {
  const per: number[][] = configs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = configs.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) per[i].push(timeConfig(layer, configs[i]));
  }
  return per.map(median);
}

/** A process that keeps one core busy until killed. */
function neighbour(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

function row(label: string, ms: number, base: number, target?: number): string {
  const ratio = ms / base;
  const verdict = target === undefined ? '' : ratio <= target ? ` (≤ ${target}: met)` : ` (≤ ${target}: NOT met)`;
  return `| ${label} | ${ms.toFixed(2)} | ${ratio.toFixed(2)}x${verdict} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, out: SECTION_OUT_FLAG },
  });
  const rounds = positive('rounds', values.rounds!, true);
  useBackend('native');
  const cores = os.availableParallelism();
  const layer = new LSTM({ inputSize: H, hiddenSize: H, seed: 1 });
  const lines: string[] = [];
  for (const train of [false, true]) {
    const what = train ? 'training step' : 'forward';
    const counts = [cores, cores + 1, 4 * cores];
    const ms = timeConfigs(layer, counts.map((threads) => ({ label: `${threads}`, threads, train })), rounds);
    counts.forEach((n, i) => lines.push(row(`${what}, ${n} threads`, ms[i], ms[0], i === 0 ? undefined : 1.15)));
  }
  const busy = neighbour();
  try {
    const ms = timeConfigs(layer, [{ label: '1', threads: 1, train: false }, { label: 'all', threads: cores, train: false }], rounds);
    lines.push(row(`forward beside a busy process, 1 thread`, ms[0], ms[0]));
    lines.push(row(`forward beside a busy process, ${cores} threads`, ms[1], ms[0]));
  } finally {
    busy.kill('SIGKILL');
  }
  for (const train of [false, true]) {
    const what = train ? 'training step' : 'forward';
    const ms = timeConfigs(layer, [false, true].map((denormal) => ({ label: '', threads: cores, train, denormal })), rounds);
    lines.push(row(`${what}, normal inputs, ${cores} threads`, ms[0], ms[0]));
    lines.push(row(`${what}, denormal inputs (±1e-39), ${cores} threads`, ms[1], ms[0], 2));
  }

  const m = describeMachine();
  const section = [
    ROBUSTNESS_HEADING,
    '',
    `\`npm run bench:robustness -- --rounds ${rounds}\`: cellscan native, LSTM T=${T} B=${B} I=H=${H}, ${m.cpu} ` +
      `(${cores} cores, kernels ${m.features.find((f) => f.startsWith('kernels:'))?.slice(8) ?? '?'}), ${m.date}. ` +
      `Median over ${rounds} rounds of each round's median of ${CALLS} calls; each ratio is against the first row of its group.`,
    '',
    '| configuration | ms | ratio |',
    '|---|---|---|',
    ...lines,
    '',
  ].join('\n');
  console.log(section);
  const out = values.out!;
  const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  fs.writeFileSync(out, placeSection(before, section));
  console.log(`written to ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
