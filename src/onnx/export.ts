// exportONNX (SPEC §9): a cellscan LSTM / GRU / RNN as an ONNX model of its evaluation-mode
// function, for onnxruntime and other ONNX runtimes.
import { onnx } from 'onnx-proto';
import { rangeError, typeError } from '../errors';
import { checkOptionKeys } from '../layers/arguments';
import { parameterArray } from '../layers/module';
import { GRU } from '../layers/gru';
import { LSTM } from '../layers/lstm';
import { RNN } from '../layers/rnn';
import type { RecurrentKind } from './gates';
import { recurrentGraph } from './graph';
import { DEFAULT_OPSET, checkOpset, irVersionFor } from './opset';
import type { DirectionWeights, RecurrentWeights } from './recurrent-node';

export interface ExportONNXOptions {
  /** ONNX opset to stamp the model with, 9..22 (default 9, the lowest that expresses the layer). */
  opset?: number;
}

const WHERE = 'exportONNX';

function kindOf(layer: unknown): RecurrentKind {
  if (layer instanceof LSTM) return 'LSTM';
  if (layer instanceof GRU) return 'GRU';
  if (layer instanceof RNN) return 'RNN';
  throw typeError(WHERE, 'layer', 'an LSTM, GRU or RNN', layer);
}

/**
 * Refuses what ONNX's recurrent operators cannot compute. The dropouts need no check: they act in
 * training only, and the model is the evaluation-mode function.
 */
function checkExpressible(layer: LSTM | GRU | RNN, kind: RecurrentKind): void {
  if (layer instanceof LSTM && layer.projSize > 0) {
    throw rangeError(WHERE, 'projSize', "0 (ONNX's LSTM has no projection)", layer.projSize);
  }
  // Zoneout's evaluation step mixes in the previous state, p·h(t−1) + (1 − p)·h̃(t): not one node's math.
  const { hidden, cell } = layer.zoneout;
  if (hidden > 0 || cell > 0) {
    const both = kind !== 'LSTM' || hidden === cell;
    const [arg, p] = both ? ['zoneout', Math.max(hidden, cell)] : hidden > 0 ? ['zoneout.hidden', hidden] : ['zoneout.cell', cell];
    throw rangeError(WHERE, arg as string, `0 (ONNX's ${kind} has no zoneout)`, p);
  }
}

function weightsOf(layer: LSTM | GRU | RNN, kind: RecurrentKind, k: number): RecurrentWeights {
  const params = layer.parameters();
  const data = (name: string): Float32Array | undefined => {
    const t = params.get(name);
    return t === undefined ? undefined : parameterArray(t);
  };
  const directions: DirectionWeights[] = [];
  for (const suffix of layer.bidirectional ? ['', '_reverse'] : ['']) {
    const s = `_l${k}${suffix}`;
    directions.push({
      wIh: data(`weight_ih${s}`)!,
      wHh: data(`weight_hh${s}`)!,
      bIh: data(`bias_ih${s}`),
      bHh: data(`bias_hh${s}`),
      peephole: data(`weight_peephole${s}`),
    });
  }
  return {
    kind,
    inputSize: k === 0 ? layer.inputSize : (layer.bidirectional ? 2 : 1) * layer.hiddenSize,
    hiddenSize: layer.hiddenSize,
    directions,
    linearBeforeReset: layer instanceof GRU ? layer.linearBeforeReset : undefined,
    nonlinearity: layer instanceof RNN ? layer.nonlinearity : undefined,
  };
}

/**
 * The layer's evaluation-mode forward as ONNX model bytes: graph inputs `input`, `h0`, `c0` (LSTM)
 * and `lengths` (int32 [B]), all required; outputs `output`, `hN`, `cN` (LSTM), in cellscan's
 * layouts. Its weights are copied: later changes to the layer do not reach the model.
 */
export function exportONNX(layer: LSTM | GRU | RNN, o?: ExportONNXOptions): Uint8Array {
  const kind = kindOf(layer);
  const options = checkOptionKeys(WHERE, 'options', o, ['opset']);
  const opset = options.opset === undefined ? DEFAULT_OPSET : checkOpset(WHERE, options.opset);
  checkExpressible(layer, kind);
  const graph = recurrentGraph({
    kind,
    inputSize: layer.inputSize,
    hiddenSize: layer.hiddenSize,
    bidirectional: layer.bidirectional,
    batchFirst: layer.batchFirst,
    residual: layer.residual,
    layers: Array.from({ length: layer.numLayers }, (_, k) => weightsOf(layer, kind, k)),
  });
  const model: onnx.IModelProto = {
    irVersion: irVersionFor(opset),
    producerName: 'cellscan',
    opsetImport: [{ domain: '', version: opset }],
    docString: 'A cellscan layer in evaluation mode. Feed h0 (and c0) zeros and lengths = T for every row for cellscan\'s defaults.',
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
