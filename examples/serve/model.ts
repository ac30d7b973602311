// The served layer from a .safetensors file: a checkpoint of `cellscan train` (its recurrent
// layer, rebuilt from the config in the metadata) or any state dict of a PyTorch-style
// LSTM/GRU/RNN, whose sizes follow from the parameters' names and shapes.
import * as fs from 'fs';
import { GRU, LSTM, RNN, type Tensor, loadSafetensors } from 'cellscan';

export type Layer = LSTM | GRU | RNN;
export type Mode = 'lstm' | 'gru' | 'rnn' | 'rnn_tanh' | 'rnn_relu';
export const MODES: readonly Mode[] = ['lstm', 'gru', 'rnn', 'rnn_tanh', 'rnn_relu'];

export interface LoadOptions {
  /** Names of the recurrent layer's parameters start with this (e.g. "rnn."); found alone when absent. */
  prefix?: string;
  /** The cell, when the file's shapes do not settle it, or to insist on one. */
  mode?: Mode;
}

/** What /healthz reports about the model, and what request checks need. */
export interface ModelInfo {
  file: string;
  /** "cellscan-charlm-1" for a `cellscan train` checkpoint, "state dict" otherwise. */
  source: string;
  cell: 'lstm' | 'gru' | 'rnn';
  prefix: string;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  projSize: number;
  /** Features per output step: D * Hout. */
  outputSize: number;
  /** Rows of h0/hN and c0/cN: numLayers * D. */
  states: number;
  /** Width of h: projSize || hiddenSize. */
  stateSize: number;
}

export interface LoadedModel {
  layer: Layer;
  info: ModelInfo;
}

/** A model file the service cannot serve; the message is one line, for the command line. */
export class ModelError extends Error {}

// `cellscan train` writes this format name (src/demo/charlm.ts); the package does not export it.
const CHARLM_FORMAT = 'cellscan-charlm-1';
const PARAM = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr|weight_peephole)_l(\d+)(_reverse)?$/;

export function loadModel(file: string, o: LoadOptions = {}): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ModelError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let tensors: Map<string, Tensor> & { metadata: Record<string, string> };
  try {
    tensors = loadSafetensors(bytes);
  } catch (e) {
    throw new ModelError(`${file} is not a valid .safetensors file: ${(e as Error).message}`);
  }
  const built = tensors.metadata.format === CHARLM_FORMAT
    ? fromCharModel(file, tensors.metadata, o)
    : fromStateDict(file, tensors, o);
  const { layer, prefix } = built;
  // Only the layer's own direct parameters: a nested dict also holds other modules' tensors.
  const own = new Map([...tensors].filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.')));
  try {
    layer.loadStateDict(own, { prefix });
  } catch (e) {
    throw new ModelError(`${file}: the weights do not fit a ${describe(layer)}: ${(e as Error).message}`);
  }
  return { layer, info: infoOf(file, built.source, prefix, layer) };
}

function describe(layer: Layer): string {
  const kind = layer instanceof LSTM ? 'LSTM' : layer instanceof GRU ? 'GRU' : 'RNN';
  return `${kind}(inputSize ${layer.inputSize}, hiddenSize ${layer.hiddenSize}, numLayers ${layer.numLayers}` +
    `${layer.bidirectional ? ', bidirectional' : ''}${layer instanceof LSTM && layer.projSize ? `, projSize ${layer.projSize}` : ''})`;
}

function infoOf(file: string, source: string, prefix: string, layer: Layer): ModelInfo {
  const D = layer.bidirectional ? 2 : 1;
  return {
    file,
    source,
    cell: layer instanceof LSTM ? 'lstm' : layer instanceof GRU ? 'gru' : 'rnn',
    prefix,
    inputSize: layer.inputSize,
    hiddenSize: layer.hiddenSize,
    numLayers: layer.numLayers,
    bidirectional: layer.bidirectional,
    projSize: layer instanceof LSTM ? layer.projSize : 0,
    outputSize: D * layer.outputSize,
    states: layer.numLayers * D,
    stateSize: layer.outputSize,
  };
}

interface Built {
  layer: Layer;
  prefix: string;
  source: string;
}

/** The recurrent layer of a character model, with the regularization it was trained with (zoneout and residual change evaluation too). */
function fromCharModel(file: string, meta: Record<string, string>, o: LoadOptions): Built {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(meta.config) as Record<string, unknown>;
  } catch {
    throw new ModelError(`${file}: a ${CHARLM_FORMAT} checkpoint must hold its config as JSON in the metadata, got ${JSON.stringify(meta.config)}`);
  }
  const cell = c.cell;
  if (cell !== 'lstm' && cell !== 'gru') throw new ModelError(`${file}: the checkpoint's config.cell must be "lstm" or "gru", got ${JSON.stringify(cell)}`);
  if (o.mode !== undefined && o.mode !== cell) throw new ModelError(`--mode ${o.mode}: ${file} is a ${cell.toUpperCase()} character model`);
  // As CharModel builds it: a GRU's zoneout object keeps only `hidden`.
  let zoneout = c.zoneout as number | { hidden: number; cell?: number } | undefined;
  if (typeof zoneout === 'object' && zoneout !== null && cell === 'gru' && !zoneout.cell) zoneout = { hidden: zoneout.hidden };
  const options = {
    inputSize: c.embed as number,
    hiddenSize: c.hidden as number,
    numLayers: c.layers as number,
    residual: c.residual as boolean | undefined,
    zoneout,
    recurrentDropout: c.recurrentDropout as number | undefined,
    weightDropout: c.weightDropout as number | undefined,
    dropout: c.dropout as number | undefined,
  };
  try {
    return { layer: cell === 'lstm' ? new LSTM(options) : new GRU(options), prefix: o.prefix ?? 'rnn.', source: CHARLM_FORMAT };
  } catch (e) {
    throw new ModelError(`${file}: the checkpoint's config does not make a layer: ${(e as Error).message}`);
  }
}

/** The prefix in front of `weight_ih_l0`: the one given, "" or the only one in the file. */
function findPrefix(file: string, names: string[], given: string | undefined): string {
  if (given !== undefined) {
    if (!names.includes(`${given}weight_ih_l0`)) {
      throw new ModelError(`${file} has no tensor ${JSON.stringify(given + 'weight_ih_l0')} (--prefix ${JSON.stringify(given)}); ${someNames(names)}`);
    }
    return given;
  }
  const found = names.filter((n) => n.endsWith('weight_ih_l0') && (n === 'weight_ih_l0' || n.endsWith('.weight_ih_l0')));
  if (found.length === 0) throw new ModelError(`${file} holds no recurrent layer (no tensor named weight_ih_l0 or PREFIX.weight_ih_l0); ${someNames(names)}`);
  const prefixes = found.map((n) => n.slice(0, -'weight_ih_l0'.length));
  if (prefixes.length > 1) {
    throw new ModelError(`${file} holds ${prefixes.length} recurrent layers: pick one with --prefix (${prefixes.map((p) => JSON.stringify(p)).join(', ')})`);
  }
  return prefixes[0];
}

function someNames(names: string[]): string {
  const shown = names.slice(0, 8).map((n) => JSON.stringify(n)).join(', ');
  return names.length === 0 ? 'it has no tensors' : `its tensors: ${shown}${names.length > 8 ? `, … (${names.length} in all)` : ''}`;
}

/** Sizes from PyTorch's names and shapes: weight_ih_l0 [G*H, I], weight_hh_l0 [G*H, Hout], weight_hr_l0 [Hout, H]. */
function fromStateDict(file: string, tensors: Map<string, Tensor>, o: LoadOptions): Built {
  const names = [...tensors.keys()];
  const prefix = findPrefix(file, names, o.prefix);
  const own = new Map<string, Tensor>();
  for (const [name, t] of tensors) if (name.startsWith(prefix)) own.set(name.slice(prefix.length), t);
  const shapeOf = (name: string): readonly number[] | undefined => own.get(name)?.shape;

  const layers = new Set<number>();
  for (const name of own.keys()) {
    const m = PARAM.exec(name);
    if (m) layers.add(Number(m[2]));
  }
  const numLayers = layers.size;
  for (let k = 0; k < numLayers; k++) {
    if (!layers.has(k)) throw new ModelError(`${file}: layers must be numbered 0..${numLayers - 1}, found ${[...layers].sort((a, b) => a - b).join(', ')}`);
  }
  const ih = shapeOf('weight_ih_l0')!;
  const hh = shapeOf('weight_hh_l0');
  if (ih.length !== 2 || hh === undefined || hh.length !== 2 || hh[0] !== ih[0]) {
    throw new ModelError(`${file}: ${prefix}weight_ih_l0 [G*H, I] and ${prefix}weight_hh_l0 [G*H, Hout] must be matrices with as many rows, got [${ih}] and ${hh ? `[${hh}]` : 'none'}`);
  }
  const hr = shapeOf('weight_hr_l0');
  const peep = shapeOf('weight_peephole_l0');
  // Only an LSTM projects or has peepholes; they also give H directly.
  const H = hr ? hr[1] : peep ? peep[1] : hh[1];
  const G = ih[0] / H;
  let mode = o.mode;
  if (mode === undefined) {
    if (hr || peep || G === 4) mode = 'lstm';
    else if (G === 3) mode = 'gru';
    else if (G === 1) mode = 'rnn';
    else throw new ModelError(`${file}: ${prefix}weight_ih_l0 has ${ih[0]} rows for a state of ${H}: not 4, 3 or 1 gates; say which cell with --mode lstm|gru|rnn`);
  }
  const expectedG = mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
  if (hr || peep ? mode !== 'lstm' : ih[0] % expectedG !== 0) {
    throw new ModelError(`--mode ${mode} does not fit ${file}: ${prefix}weight_ih_l0 has shape [${ih}]`);
  }
  const common = {
    inputSize: ih[1],
    hiddenSize: hr || peep ? H : ih[0] / expectedG,
    numLayers,
    bias: own.has('bias_ih_l0'),
    bidirectional: own.has('weight_ih_l0_reverse'),
  };
  try {
    const layer = mode === 'lstm'
      ? new LSTM({ ...common, projSize: hr ? hr[0] : 0, peepholes: peep !== undefined })
      : mode === 'gru'
        ? new GRU(common)
        : new RNN({ ...common, nonlinearity: mode === 'rnn_relu' ? 'relu' : 'tanh' });
    return { layer, prefix, source: 'state dict' };
  } catch (e) {
    throw new ModelError(`${file}: the shapes do not make a layer: ${(e as Error).message}`);
  }
}
