// onnxruntime-node as a peer: its CPU execution provider running an ONNX model that holds one
// LSTM / GRU / RNN node built from cellscan's weights (onnx-model.ts). Forward only: ONNX Runtime
// for Node has no training.
import * as ort from 'onnxruntime-node';
import { onnxOutputToOurs, onnxRecurrentModel } from '../onnx-model';
import type { Shape } from '../shapes';
import { compareClose, describeMismatch, type RecurrentWeights } from '../weights';
import { type Peer, type PeerCase, type PeerSubject, PeerMismatch, installedVersion } from './peer';

export interface OnnxSessionOptions {
  threads: number;
}

/** A session on the CPU provider with `threads` intra-op threads, one inter-op thread, all graph optimizations. */
export function createOnnxSession(w: RecurrentWeights, o: OnnxSessionOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnxRecurrentModel(w), {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

export interface OnnxForward {
  /** [T, B, D*H], our layout. */
  output: Float32Array;
  /** [D, B, H]. */
  hN: Float32Array;
  /** [D, B, H], LSTM only. */
  cN?: Float32Array;
}

/** Runs the one-node model on x [T, B, I] and returns its outputs in cellscan's layout. */
export async function onnxRuntimeForward(session: ort.InferenceSession, x: Float32Array, T: number, B: number, w: RecurrentWeights): Promise<OnnxForward> {
  const r = await session.run({ X: new ort.Tensor('float32', x, [T, B, w.inputSize]) });
  const D = w.directions.length;
  return {
    output: onnxOutputToOurs(r.Y.data as Float32Array, T, D, B, w.hiddenSize),
    hN: (r.Y_h.data as Float32Array).slice(),
    cN: r.Y_c ? (r.Y_c.data as Float32Array).slice() : undefined,
  };
}

export function onnxRuntimePeer(threads: number): Peer {
  return {
    name: 'onnxruntime',
    threads,
    describe: () =>
      `onnxruntime-node ${installedVersion('onnxruntime-node')}: CPU execution provider, intraOpNumThreads ${threads}, ` +
      'interOpNumThreads 1, graph optimizations all; one LSTM/GRU/RNN node (opset 14) with cellscan\'s weights.',
    // ONNX's GRU with linear_before_reset = 1 is PyTorch's, and LSTM/RNN match as they are.
    variantFor: (_shape: Shape) => undefined,
    async prepare(c: PeerCase): Promise<PeerSubject> {
      const { T, B } = c.shape;
      const session = await createOnnxSession(c.weights, { threads });
      const check = await onnxRuntimeForward(session, c.x, T, B, c.weights);
      for (const [what, ours, theirs] of [['output', c.output, check.output], ['hN', c.hN, check.hN]] as const) {
        const m = compareClose(theirs, ours);
        if (m) {
          await session.release();
          throw new PeerMismatch(`onnxruntime disagrees with cellscan on ${c.shape.id} ${describeMismatch(what, m, ours.length)}`);
        }
      }
      const feeds = { X: new ort.Tensor('float32', c.x, [T, B, c.weights.inputSize]) };
      return {
        forward: () => session.run(feeds),
        forwardAsync: true,
        trainSkipped: 'onnxruntime-node has no training API (inference only)',
        release: () => session.release(),
      };
    },
  };
}
