// An ONNX model holding one LSTM / GRU / RNN node with a cellscan layer's weights, encoded with
// onnx-proto (the ONNX protobuf schema compiled for protobufjs), and the conversion of the node's
// output layout back to ours.
//
// ONNX's operator differs from PyTorch's layer in three ways that matter here:
// - gate order: LSTM (i, o, f, c) where PyTorch has (i, f, g, o); GRU (z, r, h) where PyTorch has (r, z, n);
// - layout: W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] (input biases, then recurrent biases) per direction;
// - output: Y [T, D, B, H] where ours is [T, B, D*H].
// GRU's linear_before_reset = 1 is PyTorch's GRU; 0 is ONNX's default (Cho et al.).
import { onnx } from 'onnx-proto';
import { type RecurrentWeights, gatesOf, onnxGateOrder, reorderGates } from './weights';

/** Opset 14: the first with the `layout` attribute on LSTM/GRU/RNN; we keep its default (time-major). */
const OPSET = 14;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { INT, STRING, STRINGS } = onnx.AttributeProto.AttributeType;

function floatInitializer(name: string, dims: number[], parts: Float32Array[]): onnx.ITensorProto {
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total !== dims.reduce((a, b) => a * b, 1)) throw new RangeError(`initializer ${name}: ${total} values for dims [${dims}]`);
  // raw_data is little-endian float32, which is what a Float32Array holds on every platform Node runs on.
  const raw = new Uint8Array(total * 4);
  let at = 0;
  for (const p of parts) {
    raw.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function tensorValue(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The model: input X [T, B, I] (T and B symbolic, so one model serves any sequence length and
 * batch), outputs Y [T, D, B, H], Y_h [D, B, H] and, for an LSTM, Y_c [D, B, H].
 */
export function onnxRecurrentModel(w: RecurrentWeights): Uint8Array {
  const G = gatesOf(w.mode);
  const { inputSize: I, hiddenSize: H } = w;
  const D = w.directions.length;
  const order = onnxGateOrder(w.mode);
  const W = w.directions.map((d) => reorderGates(d.wIh, H, I, order));
  const R = w.directions.map((d) => reorderGates(d.wHh, H, H, order));
  const B = w.directions.flatMap((d) => [reorderGates(d.bIh, H, 1, order), reorderGates(d.bHh, H, 1, order)]);

  const attribute: onnx.IAttributeProto[] = [
    { name: 'hidden_size', type: INT, i: H },
    { name: 'direction', type: STRING, s: utf8(D === 2 ? 'bidirectional' : 'forward') },
  ];
  if (w.mode === 'GRU') attribute.push({ name: 'linear_before_reset', type: INT, i: w.linearBeforeReset ? 1 : 0 });
  if (w.mode === 'RNN' && w.nonlinearity === 'relu') {
    attribute.push({ name: 'activations', type: STRINGS, strings: w.directions.map(() => utf8('Relu')) });
  }
  const outputs = w.mode === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const model: onnx.IModelProto = {
    irVersion: onnx.Version.IR_VERSION,
    producerName: 'cellscan bench',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: `one ${w.mode}`,
      node: [{ name: w.mode.toLowerCase(), opType: w.mode, domain: '', input: ['X', 'W', 'R', 'B'], output: outputs, attribute }],
      initializer: [
        floatInitializer('W', [D, G * H, I], W),
        floatInitializer('R', [D, G * H, H], R),
        floatInitializer('B', [D, 2 * G * H], B),
      ],
      input: [tensorValue('X', ['T', 'batch', I])],
      output: [
        tensorValue('Y', ['T', D, 'batch', H]),
        ...outputs.slice(1).map((name) => tensorValue(name, [D, 'batch', H])),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Y [T, D, B, H] to our output layout [T, B, D*H]. */
export function onnxOutputToOurs(y: Float32Array, T: number, D: number, B: number, H: number): Float32Array {
  const out = new Float32Array(T * B * D * H);
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        const from = ((t * D + d) * B + b) * H;
        out.set(y.subarray(from, from + H), (t * B + b) * D * H + d * H);
      }
    }
  }
  return out;
}
