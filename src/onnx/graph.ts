// The graph of a whole cellscan layer: one recurrent node per stacked layer, chained in time-major
// layout, with cellscan's own inputs and outputs around them.
//
// Graph inputs are all required (ONNX has no optional graph input without a fixed-shape
// initializer, and T and B are symbolic): input, h0, c0 (LSTM) and lengths. cellscan's defaults
// are h0 = c0 = 0 and lengths = T for every row; a caller of onnxruntime feeds those.
import type { onnx } from 'onnx-proto';
import type { RecurrentKind } from './gates';
import { BOOL, FLOAT, INT32, attribute, int64Initializer, node, valueInfo } from './proto';
import { type RecurrentWeights, recurrentNode } from './recurrent-node';

export interface LayerGraphSpec {
  kind: RecurrentKind;
  inputSize: number;
  hiddenSize: number;
  bidirectional: boolean;
  batchFirst: boolean;
  /** Layers k ≥ 1 add their input to their output. */
  residual: boolean;
  /** One per stacked layer. */
  layers: RecurrentWeights[];
}

export function recurrentGraph(s: LayerGraphSpec): onnx.IGraphProto {
  const { kind, hiddenSize: H } = s;
  const D = s.bidirectional ? 2 : 1;
  const L = s.layers.length;
  const hasCell = kind === 'LSTM';
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const constant = (name: string, values: number[]): string => {
    if (!initializers.some((t) => t.name === name)) initializers.push(int64Initializer(name, values));
    return name;
  };

  let x = 'input';
  if (s.batchFirst) {
    nodes.push(node('Transpose', 'input.time_major', [x], ['input.time_major'], [attribute.ints('perm', [1, 0, 2])]));
    x = 'input.time_major';
  }
  const yH: string[] = [];
  const yC: string[] = [];
  for (let k = 0; k < L; k++) {
    const p = `l${k}`;
    // Layer k's states are rows k*D .. k*D+D-1 of h0 / c0.
    let h0 = 'h0';
    let c0 = 'c0';
    if (L > 1) {
      const rows = constant(`${p}.state_rows`, Array.from({ length: D }, (_, d) => k * D + d));
      h0 = `${p}.h0`;
      nodes.push(node('Gather', h0, ['h0', rows], [h0], [attribute.int('axis', 0)]));
      if (hasCell) {
        c0 = `${p}.c0`;
        nodes.push(node('Gather', c0, ['c0', rows], [c0], [attribute.int('axis', 0)]));
      }
    }
    const r = recurrentNode(s.layers[k], {
      name: `${p}.${kind.toLowerCase()}`,
      x,
      sequenceLens: 'lengths',
      h0,
      c0: hasCell ? c0 : undefined,
      y: `${p}.Y`,
      yH: `${p}.Y_h`,
      yC: hasCell ? `${p}.Y_c` : undefined,
    });
    nodes.push(r.node);
    initializers.push(...r.initializers);
    yH.push(`${p}.Y_h`);
    yC.push(`${p}.Y_c`);

    // Y [T, D, B, H] -> [T, B, D*H]: the directions side by side, as cellscan's output has them.
    let y = `${p}.Y`;
    if (D === 2) {
      nodes.push(node('Transpose', `${p}.Y_tbdh`, [y], [`${p}.Y_tbdh`], [attribute.ints('perm', [0, 2, 1, 3])]));
      y = `${p}.Y_tbdh`;
    }
    // With one direction the D axis has size 1 and only needs dropping: no copy.
    const shape = D === 2 ? constant('shape.T_B_rest', [0, 0, -1]) : constant('shape.T_rest_H', [0, -1, H]);
    nodes.push(node('Reshape', `${p}.output`, [y, shape], [`${p}.output`]));
    let out = `${p}.output`;
    if (s.residual && k > 0) {
      nodes.push(node('Add', `${p}.residual`, [out, x], [`${p}.residual`]));
      out = `${p}.residual`;
    }
    x = out;
  }
  if (s.batchFirst) {
    nodes.push(node('Transpose', 'output', [x], ['output'], [attribute.ints('perm', [1, 0, 2])]));
  } else {
    // The last node written produced x and nothing reads it yet: it becomes the graph output.
    nodes[nodes.length - 1].output![0] = 'output';
  }

  // onnxruntime leaves Y_h and Y_c at 0 for a row of length 0; cellscan's hN / cN are then h0 / c0.
  const lengthRows = constant('shape.1_B_1', [1, -1, 1]);
  nodes.push(node('Reshape', 'lengths.rows', ['lengths', lengthRows], ['lengths.rows']));
  nodes.push(node('Cast', 'lengths.nonzero', ['lengths.rows'], ['lengths.nonzero'], [attribute.int('to', BOOL)]));
  const finalState = (parts: string[], initial: string, name: string) => {
    let all = parts[0];
    if (L > 1) {
      all = `${name}.all`;
      nodes.push(node('Concat', all, parts, [all], [attribute.int('axis', 0)]));
    }
    nodes.push(node('Where', name, ['lengths.nonzero', all, initial], [name]));
  };
  finalState(yH, 'h0', 'hN');
  if (hasCell) finalState(yC, 'c0', 'cN');

  const LD = L * D;
  const [seqIn, seqOut] = s.batchFirst
    ? [['B', 'T', s.inputSize], ['B', 'T', D * H]]
    : [['T', 'B', s.inputSize], ['T', 'B', D * H]];
  const input = [
    valueInfo('input', FLOAT, seqIn, s.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]'),
    valueInfo('h0', FLOAT, [LD, 'B', H], '[numLayers*D, B, H] initial hidden state (cellscan\'s default: zeros)'),
  ];
  if (hasCell) input.push(valueInfo('c0', FLOAT, [LD, 'B', H], '[numLayers*D, B, H] initial cell state (cellscan\'s default: zeros)'));
  input.push(valueInfo('lengths', INT32, ['B'], 'valid steps of each batch row, 0..T (cellscan\'s default: T for every row)'));
  const output = [
    valueInfo('output', FLOAT, seqOut, s.batchFirst ? '[B, T, D*H]; 0 at padded steps' : '[T, B, D*H]; 0 at padded steps'),
    valueInfo('hN', FLOAT, [LD, 'B', H], '[numLayers*D, B, H] hidden state after each row\'s last valid step'),
  ];
  if (hasCell) output.push(valueInfo('cN', FLOAT, [LD, 'B', H], '[numLayers*D, B, H] cell state after each row\'s last valid step'));
  return { name: `cellscan ${kind}`, node: nodes, initializer: initializers, input, output };
}
