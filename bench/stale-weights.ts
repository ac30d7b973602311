// npm run bench:stale [-- --rounds 5 --backends native,wasm --shapes S9,S3]
//
// What the stale-weight check (src/layers/weight-watch.ts) costs a forward call. Three ways to run
// the same layer: the check switched off (CELLSCAN_BENCH_NO_WEIGHT_CHECK=1, for this bench only);
// on, with parameters never handed out (nothing to compare); on, after every parameter's `data`
// was read once (every call compares all of them with the backend's copy). Each combination runs
// in a child process of its own (the switch is read at load), in an order that turns each round, so
// a slow spell of the shared machine falls on all of them; the table gives the median over rounds
// of each child's median call, and each mode's ratio to the check off.
import { spawnSync } from 'child_process';
import * as os from 'os';
import { parseArgs } from 'util';
import { LSTM, Tensor, setNumThreads, useBackend } from 'cellscan';
import { positive } from './options';

type BackendName = 'native' | 'wasm';
type Mode = 'off' | 'unexposed' | 'exposed';

interface StaleShape {
  id: string;
  T: number;
  B: number;
  I: number;
  H: number;
  /** Timed calls per child: enough for a stable median, few enough for S3 on a busy machine. */
  calls: number;
}

// S9: one streaming step, where fixed costs matter most; S3: a training-size batch.
const SHAPES: StaleShape[] = [
  { id: 'S9', T: 1, B: 1, I: 256, H: 256, calls: 400 },
  { id: 'S3', T: 50, B: 64, I: 512, H: 512, calls: 12 },
];
const MODES: Mode[] = ['off', 'unexposed', 'exposed'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One child: the median of `calls` forwards, in microseconds, on stdout. */
function child(backend: BackendName, shape: StaleShape, mode: Mode): void {
  useBackend(backend);
  setNumThreads(2);
  const layer = new LSTM({ inputSize: shape.I, hiddenSize: shape.H, seed: 1 });
  const x = new Tensor(Float32Array.from({ length: shape.T * shape.B * shape.I }, (_, i) => Math.sin(i)), [shape.T, shape.B, shape.I]);
  if (mode === 'exposed') for (const p of layer.parameters().values()) void p.data;
  for (let i = 0; i < Math.max(3, shape.calls / 10); i++) layer.forward(x);
  const us: number[] = [];
  for (let i = 0; i < shape.calls; i++) {
    const t0 = performance.now();
    layer.forward(x);
    us.push((performance.now() - t0) * 1000);
  }
  process.stdout.write(`${median(us)}\n`);
}

function runChild(backend: BackendName, shape: StaleShape, mode: Mode): number {
  const env = { ...process.env, CELLSCAN_BENCH_NO_WEIGHT_CHECK: mode === 'off' ? '1' : '0' };
  const r = spawnSync(process.execPath, [__filename, '--child', backend, shape.id, mode], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child ${backend} ${shape.id} ${mode} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

function format(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '5' },
      backends: { type: 'string', default: 'native,wasm' },
      shapes: { type: 'string', default: 'S9,S3' },
    },
  });
  if (values.child) {
    const [backend, id, mode] = positionals;
    child(backend as BackendName, SHAPES.find((s) => s.id === id)!, mode as Mode);
    return;
  }
  const rounds = positive('--rounds', values.rounds!, true);
  const backendNames = values.backends!.split(',') as BackendName[];
  for (const b of backendNames) if (b !== 'native' && b !== 'wasm') throw new RangeError(`--backends must list native and/or wasm, got ${JSON.stringify(b)}`);
  const shapes = values.shapes!.split(',').map((id) => {
    const s = SHAPES.find((c) => c.id === id);
    if (!s) throw new RangeError(`--shapes must list ${SHAPES.map((c) => c.id).join(' and/or ')}, got ${JSON.stringify(id)}`);
    return s;
  });
  const load = os.loadavg()[0];
  const runs = new Map<string, number[]>();
  for (const backend of backendNames) {
    for (const shape of shapes) {
      for (let r = 0; r < rounds; r++) {
        // Turn the order each round: no mode always runs first after the previous shape's children.
        for (let i = 0; i < MODES.length; i++) {
          const mode = MODES[(i + r) % MODES.length];
          const key = `${backend}|${shape.id}|${mode}`;
          runs.set(key, [...(runs.get(key) ?? []), runChild(backend, shape, mode)]);
        }
      }
    }
  }
  console.log(`${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, 2 threads, ${rounds} rounds; ` +
    `load average ${load.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end\n`);
  console.log('| backend | shape | check off | on, never handed out | ratio | on, all handed out | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const backend of backendNames) {
    for (const shape of shapes) {
      const m = (mode: Mode) => median(runs.get(`${backend}|${shape.id}|${mode}`)!);
      const off = m('off');
      console.log(`| ${backend} | ${shape.id} LSTM ${shape.T} ${shape.B} ${shape.I} ${shape.H} | ${format(off)} | ` +
        `${format(m('unexposed'))} | ${(m('unexposed') / off).toFixed(2)} | ${format(m('exposed'))} | ${(m('exposed') / off).toFixed(2)} |`);
    }
  }
}

main();
