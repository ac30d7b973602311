// cellscan itself as a benchmark subject: one layer per shape (and per variant a peer needs), its
// input, its weights for the peers, and its forward as the reference the peers must reproduce.
import { GRU, LSTM, RNN, Tensor, type RecurrentLayer } from 'cellscan';
import type { Subject } from './measure';
import type { Shape } from './shapes';
import { type RecurrentWeights, weightsOf } from './weights';

export interface LayerVariant {
  /** GRU only; default true (PyTorch's GRU). */
  linearBeforeReset?: boolean;
  /** The seed's regularizers (SPEC §3a), for their cost against the plain layer. */
  zoneout?: number;
  recurrentDropout?: number;
}

/** Regularized layers timed beside the plain one on these shapes (issue 10: training at 0.85× or more). */
export const REGULARIZED: { shapes: string[]; variants: { label: string; v: LayerVariant }[] } = {
  shapes: ['S2', 'S4'],
  variants: [
    { label: 'zoneout 0.1', v: { zoneout: 0.1 } },
    { label: 'recurrentDropout 0.25', v: { recurrentDropout: 0.25 } },
  ],
};

export function makeLayer(s: Shape, v: LayerVariant = {}): RecurrentLayer {
  const o = {
    inputSize: s.I,
    hiddenSize: s.H,
    bidirectional: s.bidirectional,
    seed: 7,
    ...(v.zoneout !== undefined && { zoneout: v.zoneout }),
    ...(v.recurrentDropout !== undefined && { recurrentDropout: v.recurrentDropout }),
  };
  if (s.mode === 'LSTM') return new LSTM(o);
  if (s.mode === 'GRU') return new GRU({ ...o, linearBeforeReset: v.linearBeforeReset ?? true });
  return new RNN(o);
}

/** The same layer computing another variant: same parameters, copied from `base`. */
export function variantOf(base: RecurrentLayer, s: Shape, v: LayerVariant): RecurrentLayer {
  const layer = makeLayer(s, v);
  layer.loadStateDict(base.stateDict());
  return layer;
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

export function layerWeights(layer: RecurrentLayer, s: Shape, v: LayerVariant = {}): RecurrentWeights {
  // Copies: reading the layer's own arrays would make every later call of it compare them (weight-watch.ts).
  return weightsOf(layer.stateDict(), {
    mode: s.mode,
    inputSize: s.I,
    hiddenSize: s.H,
    bidirectional: s.bidirectional,
    linearBeforeReset: v.linearBeforeReset ?? true,
  });
}

export function cellscanSubject(layer: RecurrentLayer, x: Tensor, s: Shape): Subject {
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

/**
 * The same calls through forwardAsync and backwardAsync: on the wasm backend these run on its worker
 * threads, cut along batch rows over setNumThreads of them, where the synchronous ones run on the
 * calling thread alone.
 */
export function cellscanAsyncSubject(layer: RecurrentLayer, x: Tensor, s: Shape): { forward(): Promise<unknown>; train(): Promise<void> } {
  const D = s.bidirectional ? 2 : 1;
  const dOutput = new Tensor(new Float32Array(s.T * s.B * D * s.H).fill(1e-3), [s.T, s.B, D * s.H]);
  return {
    forward: () => layer.forwardAsync(x),
    train: async () => {
      const { tape } = await layer.forwardAsync(x, { training: true });
      await layer.backwardAsync(tape!, { dOutput });
      layer.zeroGrad();
    },
  };
}
