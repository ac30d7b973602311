// One ONNX LSTM / GRU / RNN node and its initializers from one cellscan layer's weights (all its
// directions): W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] (input biases, then recurrent ones) and,
// for peepholes, P [D, 3*H], each direction's gate blocks in ONNX's order.
import type { onnx } from 'onnx-proto';
import { gateCount } from '../backend/layer-shape';
import { ONNX_PEEPHOLE_ORDER, type RecurrentKind, cellOf, onnxGateOrder, reorderGates } from './gates';
import { attribute, floatInitializer, node } from './proto';

/** One direction in PyTorch's layout and gate order; biases absent for bias: false. */
export interface DirectionWeights {
  wIh: Float32Array; // [G*H, I]
  wHh: Float32Array; // [G*H, H]
  bIh?: Float32Array; // [G*H]
  bHh?: Float32Array; // [G*H]
  peephole?: Float32Array; // [3, H], rows (i, f, o)
}

export interface RecurrentWeights {
  kind: RecurrentKind;
  inputSize: number;
  hiddenSize: number;
  /** [forward] or [forward, reverse]. */
  directions: DirectionWeights[];
  /** GRU: PyTorch's n = tanh(Wn x + bn + r⊙(Rn h + rn)) when true (the default), Cho et al.'s when false. */
  linearBeforeReset?: boolean;
  /** RNN (default tanh). */
  nonlinearity?: 'tanh' | 'relu';
}

/** The graph values the node reads and writes; optional inputs left out are ONNX's defaults. */
export interface RecurrentNodeIO {
  /** Names the node and prefixes its initializers. */
  name: string;
  x: string;
  sequenceLens?: string;
  h0?: string;
  c0?: string;
  /** Y [T, D, B, H], Y_h [D, B, H] and (LSTM) Y_c [D, B, H]. */
  y: string;
  yH: string;
  yC?: string;
}

export function recurrentNode(w: RecurrentWeights, io: RecurrentNodeIO): { node: onnx.INodeProto; initializers: onnx.ITensorProto[] } {
  const G = gateCount(cellOf(w.kind, w.nonlinearity));
  const { inputSize: I, hiddenSize: H, directions } = w;
  const D = directions.length;
  const order = onnxGateOrder(w.kind);
  const initializers = [
    floatInitializer(`${io.name}.W`, [D, G * H, I], directions.map((d) => reorderGates(d.wIh, H, I, order))),
    floatInitializer(`${io.name}.R`, [D, G * H, H], directions.map((d) => reorderGates(d.wHh, H, H, order))),
  ];
  // Without biases B is left out: ONNX's default is zeros, which is what bias: false computes.
  const hasBias = directions.every((d) => d.bIh && d.bHh);
  if (hasBias) {
    initializers.push(floatInitializer(`${io.name}.B`, [D, 2 * G * H],
      directions.flatMap((d) => [reorderGates(d.bIh!, H, 1, order), reorderGates(d.bHh!, H, 1, order)])));
  }
  const hasPeepholes = w.kind === 'LSTM' && directions.every((d) => d.peephole);
  if (hasPeepholes) {
    initializers.push(floatInitializer(`${io.name}.P`, [D, 3 * H],
      directions.map((d) => reorderGates(d.peephole!, H, 1, ONNX_PEEPHOLE_ORDER))));
  }

  const input = [io.x, `${io.name}.W`, `${io.name}.R`, hasBias ? `${io.name}.B` : '', io.sequenceLens ?? '', io.h0 ?? ''];
  if (w.kind === 'LSTM') input.push(io.c0 ?? '', hasPeepholes ? `${io.name}.P` : '');
  // Trailing omitted inputs are simply absent; inner ones keep their place as ''.
  while (input[input.length - 1] === '') input.pop();
  const output = w.kind === 'LSTM' ? [io.y, io.yH, io.yC ?? ''] : [io.y, io.yH];

  const attrs = [attribute.int('hidden_size', H), attribute.string('direction', D === 2 ? 'bidirectional' : 'forward')];
  if (w.kind === 'GRU') attrs.push(attribute.int('linear_before_reset', (w.linearBeforeReset ?? true) ? 1 : 0));
  if (w.kind === 'RNN' && w.nonlinearity === 'relu') attrs.push(attribute.strings('activations', directions.map(() => 'Relu')));
  return { node: node(w.kind, io.name, input, output, attrs), initializers };
}
