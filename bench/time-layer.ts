// npm run bench:layer -- --cell lstm --shape T,B,I,H [--layers 1 --bidirectional --train --threads 2
//                        --backend native --lengths sorted --runs 30 --rounds 5]
//
// One layer's forward (or training step) timed alone: the median of `runs` calls after warm-up
// calls, repeated `rounds` times, and the median and range of those medians. The quick check
// behind a design choice in the kernels (docs/PERFORMANCE.md quotes it): run it before and after
// a change, in one sitting, since these machines are shared and noisy.
import { parseArgs } from 'util';
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, setNumThreads, useBackend } from 'cellscan';
import { positive } from './options';

function options() {
  const { values } = parseArgs({
    options: {
      cell: { type: 'string', default: 'lstm' },
      shape: { type: 'string', default: '50,16,256,256' },
      layers: { type: 'string', default: '1' },
      bidirectional: { type: 'boolean', default: false },
      train: { type: 'boolean', default: false },
      threads: { type: 'string', default: '2' },
      backend: { type: 'string', default: 'native' },
      lengths: { type: 'string' },
      runs: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const dims = values.shape!.split(',').map((d, i) => positive(`--shape [${i}]`, d, true));
  if (dims.length !== 4) throw new RangeError(`--shape must be T,B,I,H, got ${JSON.stringify(values.shape)}`);
  if (!['lstm', 'gru', 'rnn'].includes(values.cell!)) throw new RangeError(`--cell must be lstm, gru or rnn, got ${JSON.stringify(values.cell)}`);
  if (values.backend !== 'native' && values.backend !== 'wasm') throw new RangeError(`--backend must be native or wasm, got ${JSON.stringify(values.backend)}`);
  if (values.lengths !== undefined && values.lengths !== 'sorted' && values.lengths !== 'shuffled') {
    throw new RangeError(`--lengths must be sorted or shuffled, got ${JSON.stringify(values.lengths)}`);
  }
  return {
    cell: values.cell as 'lstm' | 'gru' | 'rnn',
    T: dims[0], B: dims[1], I: dims[2], H: dims[3],
    layers: positive('--layers', values.layers!, true),
    bidirectional: values.bidirectional!,
    train: values.train!,
    threads: positive('--threads', values.threads!, true),
    backend: values.backend as 'native' | 'wasm',
    lengths: values.lengths as 'sorted' | 'shuffled' | undefined,
    runs: positive('--runs', values.runs!, true),
    rounds: positive('--rounds', values.rounds!, true),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(): void {
  const o = options();
  useBackend(o.backend);
  setNumThreads(o.threads);
  const config = { inputSize: o.I, hiddenSize: o.H, numLayers: o.layers, bidirectional: o.bidirectional, seed: 1 };
  const layer: RecurrentLayer = o.cell === 'lstm' ? new LSTM(config) : o.cell === 'gru' ? new GRU(config) : new RNN(config);
  const x = new Tensor(Float32Array.from({ length: o.T * o.B * o.I }, (_, i) => Math.sin(i)), [o.T, o.B, o.I]);
  const width = layer.directions * layer.outputSize;
  const dOutput = new Tensor(new Float32Array(o.T * o.B * width).fill(0.01), [o.T, o.B, width]);
  // Lengths spread over 1..T: longest first (ended rows are skipped) or in an order that is not.
  let lengths: number[] | undefined;
  if (o.lengths) {
    lengths = Array.from({ length: o.B }, (_, b) => o.T - Math.floor((b * o.T) / o.B));
    if (o.lengths === 'shuffled') lengths = lengths.map((_, b) => lengths![(b * 7 + 3) % o.B]);
  }
  const call = () => {
    if (!o.train) return layer.forward(x, { lengths });
    const f = layer.forward(x, { lengths, training: true });
    return layer.backward(f.tape!, { dOutput });
  };
  const medians: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (let i = 0; i < 3; i++) call();
    const ms: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      call();
      ms.push(performance.now() - t0);
    }
    medians.push(median(ms));
  }
  const lo = Math.min(...medians);
  const hi = Math.max(...medians);
  console.log(`${o.cell.toUpperCase()} T=${o.T} B=${o.B} I=${o.I} H=${o.H}${o.layers > 1 ? ` x${o.layers}` : ''}${o.bidirectional ? ' bidirectional' : ''}` +
    `${o.lengths ? `, lengths ${o.lengths}` : ''}, ${o.train ? 'training step' : 'forward'}, ${o.backend}, ${o.threads} threads: ` +
    `median ${median(medians).toFixed(3)} ms (rounds ${lo.toFixed(3)}-${hi.toFixed(3)})`);
}

main();
