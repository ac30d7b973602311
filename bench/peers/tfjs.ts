// TensorFlow.js on its WebAssembly backend as a peer: the layers API (LSTM, GRU, SimpleRNN with
// returnSequences, wrapped in Bidirectional when needed) with cellscan's weights, timed on
// `predict` and on one `fit` step (one batch of B sequences, MSE on the sequence output, SGD).
//
// Keras's layout: kernel [I, G*H] and recurrent_kernel [H, G*H] (transposed against PyTorch), one
// bias [G*H] (PyTorch's two biases summed), gates LSTM (i, f, c, o) = PyTorch's order, GRU (z, r, h).
// Keras's default recurrent activation in TF.js is hard_sigmoid; PyTorch's is the logistic sigmoid.
// TF.js's GRU has no reset_after (its GRUCell throws on it), so it computes Cho et al.'s GRU
// (n = tanh(Wn x + Rn(r⊙h) + b)); it is matched against cellscan's GRU with linearBeforeReset = false.
import * as fs from 'fs';
import * as path from 'path';
import { type Shape, forwardFlops } from '../shapes';
import { type RecurrentWeights, compareClose, describeMismatch, gatesOf, kerasGateOrder, reorderGates, swapLeading, transpose } from '../weights';
import { type Peer, type PeerCase, type PeerSubject, type PeerVariant, PeerMismatch, installedVersion } from './peer';

type TF = typeof import('@tensorflow/tfjs');
type LayersModel = import('@tensorflow/tfjs').LayersModel;

export interface LoadedTfjs {
  tf: TF;
  /** Threads XNNPACK runs on inside the wasm backend. */
  threads: number;
  simd: boolean;
}

let loading: Promise<LoadedTfjs> | undefined;

/** The directory inside node_modules that holds the backend's .wasm files, so nothing is fetched. */
export function tfjsWasmDirectory(): string {
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const missing = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0) throw new Error(`@tensorflow/tfjs-backend-wasm: ${missing.join(', ')} not found in ${dir}`);
  return dir + path.sep;
}

/**
 * Loads TF.js and switches it to the wasm backend, once per process: the first call's `threads` is
 * asked of XNNPACK (setThreadsCount, which counts only before the backend initializes). Under Node
 * TF.js 4 runs its single-threaded build whatever is asked (its WASM_HAS_MULTITHREAD_SUPPORT flag
 * is false there, tfjs#3830; forced on, the threaded build fails to start its workers from a blob:
 * URL); `threads` in the result is what the backend reports using.
 */
export function loadTfjsWasm(threads?: number): Promise<LoadedTfjs> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(tfjsWasmDirectory());
    if (threads !== undefined) wasm.setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not initialize its wasm backend');
    await tf.ready();
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
    return { tf, threads: wasm.getThreadsCount(), simd };
  })();
  return loading;
}

/** Per direction: kernel [I, G*H], recurrent kernel [H, G*H], bias [G*H], as Keras holds them. */
export function kerasWeights(w: RecurrentWeights): { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }[] {
  if (w.mode === 'GRU' && w.linearBeforeReset) {
    throw new RangeError('TF.js has no GRU with reset_after (linear before reset); use linearBeforeReset = false weights');
  }
  const G = gatesOf(w.mode);
  const { inputSize: I, hiddenSize: H } = w;
  const order = kerasGateOrder(w.mode);
  return w.directions.map((d) => {
    const bias = new Float32Array(G * H);
    for (let i = 0; i < bias.length; i++) bias[i] = d.bIh[i] + d.bHh[i];
    return {
      kernel: transpose(reorderGates(d.wIh, H, I, order), G * H, I),
      recurrent: transpose(reorderGates(d.wHh, H, H, order), G * H, H),
      bias: reorderGates(bias, H, 1, order),
    };
  });
}

/** A model taking [B, T, I] and returning the sequence output [B, T, D*H], holding w. */
export function tfjsRecurrentModel(tf: TF, w: RecurrentWeights, T: number): LayersModel {
  const { inputSize: I, hiddenSize: H } = w;
  // Zeros: the weights are overwritten below, and TF.js's orthogonal default is slow on large matrices.
  const common = {
    units: H,
    returnSequences: true,
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
    biasInitializer: 'zeros',
  } as const;
  const rnn =
    w.mode === 'LSTM'
      ? tf.layers.lstm({ ...common, activation: 'tanh', recurrentActivation: 'sigmoid' })
      : w.mode === 'GRU'
        ? tf.layers.gru({ ...common, activation: 'tanh', recurrentActivation: 'sigmoid' })
        : tf.layers.simpleRNN({ ...common, activation: w.nonlinearity === 'relu' ? 'relu' : 'tanh' });
  const layer = w.directions.length === 2 ? tf.layers.bidirectional({ layer: rnn, mergeMode: 'concat' }) : rnn;
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [T, I] }));
  model.add(layer);
  const G = gatesOf(w.mode);
  // Bidirectional.setWeights takes the forward layer's weights, then the backward layer's.
  const values = kerasWeights(w).flatMap((k) => [
    tf.tensor2d(k.kernel, [I, G * H]),
    tf.tensor2d(k.recurrent, [H, G * H]),
    tf.tensor1d(k.bias),
  ]);
  model.setWeights(values); // copies into the layer's variables
  tf.dispose(values);
  return model;
}

/** predict on x [T, B, I] (time-major, ours), output back in our layout [T, B, D*H]. */
export function tfjsForward(tf: TF, model: LayersModel, x: Float32Array, T: number, B: number, I: number): Float32Array {
  return tf.tidy(() => {
    const y = model.predict(tf.tensor3d(swapLeading(x, T, B, I), [B, T, I])) as import('@tensorflow/tfjs').Tensor;
    const F = y.shape[2]!;
    return swapLeading(y.dataSync() as Float32Array, B, T, F);
  });
}

// The slowest a fit step ran on shapes of a GFLOP or more, on a 2-core EPYC (GFLOP/s, counting
// 3× the forward FLOPs): S2 1.4–2.2, S3 1.6, S4 1.4, S5 2.0–2.3, S6 1.8, S10 1.8–2.6. A step is
// estimated at that rate before it is started, so that one over the budget is skipped rather than
// run: steady across runs, unlike its ratio to predict (5–75× here, with the machine's load).
// Small shapes run slower than this rate but take a second or two at most.
const FIT_GFLOPS = 1.4;

export function tfjsPeer(loaded: LoadedTfjs): Peer {
  const { tf, threads, simd } = loaded;
  return {
    name: 'tfjs',
    threads,
    describe: () =>
      `@tensorflow/tfjs ${installedVersion('@tensorflow/tfjs')} with @tensorflow/tfjs-backend-wasm ` +
      `${installedVersion('@tensorflow/tfjs-backend-wasm')} (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread` +
      `${threads === 1 ? ': the backend disables its multi-threaded build under Node' : 's'}); layers API, ` +
      '`predict` for forward, one `fit` step (batch B, MSE, SGD) for forward+backward.',
    variantFor(shape: Shape): PeerVariant | undefined {
      if (shape.mode !== 'GRU') return undefined;
      return {
        linearBeforeReset: false,
        why:
          "TF.js's GRU has no reset_after (GRUCell throws on it), so it cannot compute PyTorch's GRU; it is checked and " +
          'compared against cellscan GRU with linearBeforeReset = false (same weights, same FLOPs).',
      };
    },
    async prepare(c: PeerCase, o: { trainBudgetMs: number }): Promise<PeerSubject> {
      const { T, B, I } = c.shape;
      const model = tfjsRecurrentModel(tf, c.weights, T);
      const check = tfjsForward(tf, model, c.x, T, B, I);
      const m = compareClose(check, c.output);
      if (m) {
        model.dispose();
        throw new PeerMismatch(`tfjs disagrees with cellscan on ${c.shape.id} ${describeMismatch('output', m, c.output.length)}`);
      }
      const F = c.output.length / (T * B);
      const x = tf.tensor3d(swapLeading(c.x, T, B, I), [B, T, I]);
      const target = tf.zeros([B, T, F]);
      model.compile({ optimizer: tf.train.sgd(1e-3), loss: 'meanSquaredError' });
      return {
        forward: () => {
          const y = model.predict(x) as import('@tensorflow/tfjs').Tensor;
          y.dataSync();
          y.dispose();
        },
        trainGate: () => {
          const estimateMs = (3 * forwardFlops(c.shape)) / FIT_GFLOPS / 1e6;
          if (estimateMs <= o.trainBudgetMs) return undefined;
          return (
            `one fit step is estimated at ${(estimateMs / 1000).toFixed(0)} s (its FLOPs at ${FIT_GFLOPS} GFLOP/s, the slowest ` +
            `TF.js fit seen here on large shapes), over the --peer-budget of ${(o.trainBudgetMs / 1000).toFixed(0)} s`
          );
        },
        train: async () => {
          await model.fit(x, target, { batchSize: B, epochs: 1, shuffle: false, verbose: 0 });
        },
        trainAsync: true,
        release: () => {
          x.dispose();
          target.dispose();
          model.dispose();
        },
      };
    },
  };
}
