// A layer as bytes a worker on another machine can rebuild it from: its state dict as safetensors,
// its constructor options in the metadata, named by the SHA-256 of it all (so one model is stored
// once however many runs use it, and two different ones never share a name).
import { createHash } from 'crypto';
import { GRU } from '../layers/gru';
import { parameterArray } from '../layers/module';
import { LSTM } from '../layers/lstm';
import type { GRUOptions, LSTMOptions, RNNOptions } from '../layers/options';
import { RecurrentLayer } from '../layers/recurrent';
import { RNN } from '../layers/rnn';
import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import type { Tensor } from '../tensor';

export const MODEL_FORMAT = 'cellscan-layer-1';

export type Layer = LSTM | GRU | RNN;

export interface ModelBlob {
  hash: string;
  bytes: Uint8Array;
}

type Kind = 'LSTM' | 'GRU' | 'RNN';

/** What the constructor needs to build the same layer: its public settings (the seed only shapes
 * weights the state dict replaces, so it is left out and two copies of a model hash alike). */
function optionsOf(layer: RecurrentLayer): { kind: Kind; options: LSTMOptions | GRUOptions | RNNOptions } {
  const common = {
    inputSize: layer.inputSize,
    hiddenSize: layer.hiddenSize,
    numLayers: layer.numLayers,
    bias: layer.bias,
    batchFirst: layer.batchFirst,
    bidirectional: layer.bidirectional,
    dropout: layer.dropout,
    residual: layer.residual,
    recurrentDropout: layer.recurrentDropout,
    weightDropout: layer.weightDropout,
  };
  if (layer instanceof LSTM) {
    return { kind: 'LSTM', options: { ...common, zoneout: { ...layer.zoneout }, projSize: layer.projSize, peepholes: layer.peepholes } };
  }
  // GRU and RNN take no cell zoneout (a key they reject), only the hidden one.
  const zoneout = { hidden: layer.zoneout.hidden };
  if (layer instanceof GRU) return { kind: 'GRU', options: { ...common, zoneout, linearBeforeReset: layer.linearBeforeReset } };
  if (layer instanceof RNN) return { kind: 'RNN', options: { ...common, zoneout, nonlinearity: layer.nonlinearity } };
  throw new TypeError(`encodeModel: layer must be an LSTM, GRU or RNN, got a ${layer.constructor.name}`);
}

export function encodeModel(layer: RecurrentLayer): ModelBlob {
  const { kind, options } = optionsOf(layer);
  const bytes = saveSafetensors(layer.stateDict(), { format: MODEL_FORMAT, kind, options: JSON.stringify(options) });
  return { hash: createHash('sha256').update(bytes).digest('hex'), bytes };
}

interface EncodedModel {
  options: string;
  /** A copy of each parameter as it was encoded. */
  params: Map<string, Uint8Array>;
  blob: ModelBlob;
}

const encoded = new WeakMap<RecurrentLayer, EncodedModel>();

/** A parameter's bytes, read without handing its array out (that would cost every later call a compare). */
function bytesOf(t: Tensor): Uint8Array {
  const a = parameterArray(t);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * encodeModel, but a layer whose options and every weight bit are what they were at its last call
 * gets that call's blob back: building and hashing a large model's bytes for each run cost more
 * than comparing its weights with a copy. A weight changed in place, told or not, makes a new blob.
 */
export function encodeModelOnce(layer: RecurrentLayer): ModelBlob {
  const options = JSON.stringify(optionsOf(layer));
  const live = layer.parameters();
  const last = encoded.get(layer);
  if (last && last.options === options && last.params.size === live.size) {
    let same = true;
    for (const [name, t] of live) {
      const was = last.params.get(name);
      if (!was || !Buffer.from(was.buffer, was.byteOffset, was.byteLength).equals(bytesOf(t))) {
        same = false;
        break;
      }
    }
    if (same) return last.blob;
  }
  const blob = encodeModel(layer);
  encoded.set(layer, { options, params: new Map([...live].map(([name, t]) => [name, bytesOf(t).slice()])), blob });
  return blob;
}

/** The layer the bytes describe; an Error saying what is wrong when they describe none. */
export function decodeModel(bytes: Uint8Array): Layer {
  const tensors = loadSafetensors(bytes);
  const { format, kind, options } = tensors.metadata;
  if (format !== MODEL_FORMAT) throw new Error(`a model blob must have format ${MODEL_FORMAT}, got ${JSON.stringify(format)}`);
  const o = JSON.parse(options ?? 'null') as LSTMOptions & GRUOptions & RNNOptions;
  let layer: Layer;
  if (kind === 'LSTM') layer = new LSTM(o);
  else if (kind === 'GRU') layer = new GRU(o);
  else if (kind === 'RNN') layer = new RNN(o);
  else throw new Error(`a model blob's kind must be LSTM, GRU or RNN, got ${JSON.stringify(kind)}`);
  layer.loadStateDict(tensors);
  return layer;
}
