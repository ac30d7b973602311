// cellscan itself as a benchmark subject, on a given backend.
import { GRU, LSTM, RNN, Tensor, type RecurrentLayer } from 'cellscan';
import type { Subject } from './measure';
import type { Shape } from './shapes';

export function makeLayer(s: Shape): RecurrentLayer {
  const o = { inputSize: s.I, hiddenSize: s.H, bidirectional: s.bidirectional, seed: 7 };
  return s.mode === 'LSTM' ? new LSTM(o) : s.mode === 'GRU' ? new GRU(o) : new RNN(o);
}

/** Deterministic input in [-1, 1) without a dependency on the library's own generator. */
export function inputFor(s: Shape): Tensor {
  const data = new Float32Array(s.T * s.B * s.I);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state / 2 ** 31 - 1;
  }
  return new Tensor(data, [s.T, s.B, s.I]);
}

export function cellscanSubject(s: Shape): Subject {
  const layer = makeLayer(s);
  const x = inputFor(s);
  const D = s.bidirectional ? 2 : 1;
  const dOutput = new Tensor(new Float32Array(s.T * s.B * D * s.H).fill(1e-3), [s.T, s.B, D * s.H]);
  return {
    forward: () => layer.forward(x),
    train: () => {
      const { tape } = layer.forward(x, { training: true });
      layer.backward(tape!, { dOutput });
      layer.zeroGrad();
    },
  };
}
