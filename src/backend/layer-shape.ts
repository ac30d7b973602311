// The sizes that follow from a layer's spec: how many gate blocks its cell has, the size of h, which
// parameters it has and how large each is. The facade (parameter shapes), the WASM boundary checks,
// the compact parameter layout and the thread cost model all ask here, so they cannot disagree.
import type { CellKind, LayerParams, LayerSpec } from './types';

/** Gate blocks of a cell in PyTorch's order: LSTM (i, f, g, o), GRU (r, z, n), RNN one. */
export function gateCount(cell: CellKind): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/** Only the LSTM carries a cell state c next to h. */
export function hasCellState(cell: CellKind): boolean {
  return cell === 'lstm';
}

/** Size of h (Hout): projSize when projecting, else hiddenSize. */
export function outputSize(spec: Pick<LayerSpec, 'hiddenSize' | 'projSize'>): number {
  return spec.projSize > 0 ? spec.projSize : spec.hiddenSize;
}

/** The parameter fields in the order both backends number them (the module's layerParam index). */
export const paramFields: readonly (keyof LayerParams)[] = ['wIh', 'wHh', 'bIh', 'bHh', 'wHr', 'wPeep'];

/**
 * PyTorch's shape of each parameter a layer of this spec has, in paramFields order; the fields it
 * lacks (no bias, no projection, no peepholes) are left out.
 */
export function paramShapes(spec: LayerSpec): [field: keyof LayerParams, shape: number[]][] {
  const gh = gateCount(spec.cell) * spec.hiddenSize;
  const H = spec.hiddenSize;
  const out: [keyof LayerParams, number[]][] = [
    ['wIh', [gh, spec.inputSize]],
    ['wHh', [gh, outputSize(spec)]],
  ];
  if (spec.bias) out.push(['bIh', [gh]], ['bHh', [gh]]);
  if (spec.projSize > 0) out.push(['wHr', [spec.projSize, H]]);
  if (spec.peepholes) out.push(['wPeep', [3, H]]);
  return out;
}

/** Multiply-adds ×2 of a forward of B rows over T steps (projection included). */
export function forwardFlops(spec: LayerSpec, T: number, B: number): number {
  const H = spec.hiddenSize;
  const hout = outputSize(spec);
  const projection = spec.projSize > 0 ? H * hout : 0;
  return 2 * T * B * (gateCount(spec.cell) * H * (spec.inputSize + hout) + projection);
}
