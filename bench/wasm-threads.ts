// node dist/bench/wasm-threads.js [--cell lstm|gru|rnn] [--shape T,B,I,H] [--threads 2] [--rounds 9]
// CELLSCAN_WASM_MIN_PIECE_FLOPS=0 node dist/bench/wasm-threads.js --threshold [--rounds 9]
//
// The wasm backend's worker threads (issue 12). The default mode times forwardAsync and a training
// step (forwardAsync then backwardAsync) at 1 thread and at --threads, in rounds whose order
// alternates so a slow spell of a shared machine falls on both; it prints each one's median over
// rounds and the ratio. --threshold times small forwards that every thread takes a piece of (the
// variable makes the backend split every call) at 1 and 2 threads, to find the work below which a
// second thread costs more than it saves (MIN_PIECE_FLOPS in src/backend/wasm-rows.ts).
import { parseArgs } from 'util';
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, setNumThreads, useBackend } from 'cellscan';
import { positive } from './options';

const { values } = parseArgs({
  options: {
    cell: { type: 'string', default: 'lstm' },
    shape: { type: 'string', default: '50,64,512,512' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '9' },
    threshold: { type: 'boolean', default: false },
  },
});
const rounds = positive('rounds', values.rounds!, true);
const threads = positive('threads', values.threads!, true);

function layerOf(cell: string, I: number, H: number): RecurrentLayer {
  if (cell === 'lstm') return new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
  if (cell === 'gru') return new GRU({ inputSize: I, hiddenSize: H, seed: 1 });
  if (cell === 'rnn') return new RNN({ inputSize: I, hiddenSize: H, seed: 1 });
  throw new RangeError(`--cell must be lstm, gru or rnn, got ${JSON.stringify(cell)}`);
}

function gates(cell: string): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

function filled(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (((i * 7919 + seed) % 201) - 100) / 400;
  return new Tensor(data, shape);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Milliseconds per call of `run`, over enough calls to last about `ms`. */
async function timePerCall(run: () => Promise<unknown>, calls: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return (performance.now() - start) / calls;
}

async function compare(counts: number[], tasks: Record<string, () => Promise<unknown>>, calls = 1): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = {};
  for (const n of counts) {
    setNumThreads(n);
    for (const run of Object.values(tasks)) await timePerCall(run, calls); // warm-up: workers started, layers packed
  }
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 ? [...counts].reverse() : counts) {
      setNumThreads(n);
      // Untimed: a resize ends the pool's extra workers, and a larger one starts them on the next
      // call, each loading the layer first (and packing its backward weights on its first backward);
      // without these calls every round's first timings paid that.
      for (const run of Object.values(tasks)) await run();
      for (const [task, run] of Object.entries(tasks)) (times[`${task}@${n}`] ??= []).push(await timePerCall(run, calls));
    }
  }
  return times;
}

async function throughput(): Promise<void> {
  const [T, B, I, H] = values.shape!.split(',').map((v) => positive('shape', v, true));
  const cell = values.cell!;
  const layer = layerOf(cell, I, H);
  const x = filled([T, B, I], 1);
  const dOutput = filled([T, B, H], 2);
  const tasks = {
    forward: () => layer.forwardAsync(x),
    train: async () => {
      const f = await layer.forwardAsync(x, { training: true });
      await layer.backwardAsync(f.tape!, { dOutput });
    },
  };
  const times = await compare([1, threads], tasks);
  const flops = 2 * T * B * gates(cell) * H * (I + H);
  console.log(`wasm ${cell.toUpperCase()} T=${T} B=${B} I=${I} H=${H}, medians of ${rounds} rounds (1 thread | ${threads} threads):`);
  for (const task of Object.keys(tasks)) {
    const one = median(times[`${task}@1`]);
    const many = median(times[`${task}@${threads}`]);
    const work = task === 'forward' ? flops : 3 * flops;
    console.log(`  ${task.padEnd(8)} ${one.toFixed(1)} ms (${(work / one / 1e6).toFixed(1)} GFLOP/s) | ${many.toFixed(1)} ms ` +
      `(${(work / many / 1e6).toFixed(1)} GFLOP/s): ${(one / many).toFixed(2)}x  ` +
      `[rounds: ${times[`${task}@1`].map((t) => t.toFixed(0)).join(' ')} | ${times[`${task}@${threads}`].map((t) => t.toFixed(0)).join(' ')}]`);
  }
}

async function threshold(): Promise<void> {
  if (process.env.CELLSCAN_WASM_MIN_PIECE_FLOPS !== '0') {
    throw new Error('--threshold needs CELLSCAN_WASM_MIN_PIECE_FLOPS=0, so that every call is split');
  }
  console.log('wasm LSTM forwardAsync, every call split over the threads; medians of per-call times over rounds');
  console.log('MFLOP   | shape T B I=H | 1 thread us | 2 threads us | 1/2');
  const shapes: [number, number, number][] = [
    [1, 8, 32], [4, 8, 32], [4, 8, 64], [8, 8, 64], [8, 16, 64], [16, 16, 64], [8, 16, 128], [16, 16, 128], [16, 32, 128], [32, 32, 128],
    [16, 32, 256], [32, 32, 256],
  ];
  for (const [T, B, H] of shapes) {
    const layer = layerOf('lstm', H, H);
    const x = filled([T, B, H], 3);
    const flops = 2 * T * B * 4 * H * 2 * H;
    // Enough calls that a round lasts tens of milliseconds.
    const calls = Math.max(3, Math.round(2e9 / Math.max(flops, 1e6) / 20));
    const times = await compare([1, 2], { forward: () => layer.forwardAsync(x) }, Math.min(calls, 400));
    const one = median(times['forward@1']) * 1000;
    const two = median(times['forward@2']) * 1000;
    console.log(`${(flops / 1e6).toFixed(2).padStart(7)} | ${T} ${B} ${H} | ${one.toFixed(0).padStart(8)} | ${two.toFixed(0).padStart(8)} | ${(one / two).toFixed(2)}`);
  }
}

useBackend('wasm');
(values.threshold ? threshold() : throughput()).catch((e) => {
  console.error(e);
  process.exit(1);
});
