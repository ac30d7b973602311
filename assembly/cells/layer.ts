// One direction of one recurrent layer: its spec, its parameters as PyTorch stores them, and the
// weights packed once for the products forward and backward need. A layer lives in one region the
// host allocates: this descriptor, the PackedMatrix headers, then the buffers layoutLayer places.
import { PackedMatrix, packMatrix, packedMatrixBytes } from '../gemm/gemm';
import { at } from '../lanes';
import { floatBytes } from './layout';

export const CELL_LSTM = 0;
export const CELL_GRU = 1;
export const CELL_RNN_TANH = 2;
export const CELL_RNN_RELU = 3;

// Spec flags as the host passes them.
export const FLAG_BIAS = 1;
export const FLAG_PEEPHOLES = 2;
export const FLAG_LINEAR_BEFORE_RESET = 4;
export const FLAG_REVERSE = 8;

@unmanaged export class LayerDesc {
  cell: i32;
  inputSize: i32;
  hiddenSize: i32;
  projSize: i32; // 0: no projection
  bias: bool;
  peepholes: bool;
  linearBeforeReset: bool;
  reverse: bool;
  // Parameters, one contiguous block in this order; absent ones are 0. Gradients use the same layout.
  params: usize;
  paramsBytes: usize;
  wIh: usize; // [G*H, I]
  wHh: usize; // [G*H, Hout]
  bIh: usize; // [G*H]
  bHh: usize; // [G*H]
  wHr: usize; // [Hout, H]
  wPeep: usize; // [3, H] rows i, f, o
  inputBias: usize; // [G*H] the biases that fold into the input projection
  // Forward products, op(B) = Wᵀ: [I, G*H], [Hout, G*H or GRU's 2H], [H, H] GRU's Rnᵀ, [H, Hout].
  wIhT: PackedMatrix;
  wHhT: PackedMatrix;
  wHnT: PackedMatrix;
  wHrT: PackedMatrix;
  // Backward products, op(B) = W, packed on the first backward: [G*H, I], [G*H or 2H, Hout], [H, H], [Hout, H].
  wIhB: PackedMatrix;
  wHhB: PackedMatrix;
  wHnB: PackedMatrix;
  wHrB: PackedMatrix;

  @inline get gates(): i32 {
    return this.cell == CELL_LSTM ? 4 : this.cell == CELL_GRU ? 3 : 1;
  }
  @inline get gateSize(): i32 {
    return this.gates * this.hiddenSize;
  }
  @inline get outSize(): i32 {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }
  // GRU, forward: n's recurrent product never sums into the gates (linear before reset keeps Rn h
  // for r to scale, reset before linear needs r ⊙ h first), so Rnᵀ is packed apart from R_rzᵀ.
  @inline get candidateApart(): bool {
    return this.cell == CELL_GRU;
  }
  // Columns of the forward recurrent product that sum into the gates: every gate, or r and z.
  @inline get gateCols(): i32 {
    return this.candidateApart ? 2 * this.hiddenSize : this.gateSize;
  }
  // GRU without linear-before-reset, backward: d(r ⊙ h) needs Rn apart, and n's rows of dW_hh come
  // from r ⊙ h rather than h.
  @inline get splitCandidate(): bool {
    return this.cell == CELL_GRU && !this.linearBeforeReset;
  }
  // Rows of the backward recurrent product taken in one go: every gate, or r and z only when split.
  @inline get recurrentRows(): i32 {
    return this.splitCandidate ? 2 * this.hiddenSize : this.gateSize;
  }
  // The gradient of parameter `param` inside a gradient block laid out like the parameters.
  @inline gradOf(grads: usize, param: usize): usize {
    return param == 0 ? 0 : grads + (param - this.params);
  }
}

// The descriptor and its eight PackedMatrix headers (four forward, four backward), v128-aligned.
const HEADERS = 8;
const LAYER_HEADER_BYTES: usize = (offsetof<LayerDesc>() + HEADERS * offsetof<PackedMatrix>() + 15) & ~15;

// A scratch descriptor for measuring a layout before the host has allocated its region.
const sizing = changetype<LayerDesc>(memory.data(<i32>offsetof<LayerDesc>()));

function setSpec(d: LayerDesc, cell: i32, inputSize: i32, hiddenSize: i32, projSize: i32, flags: i32): void {
  d.cell = cell;
  d.inputSize = inputSize;
  d.hiddenSize = hiddenSize;
  d.projSize = projSize;
  d.bias = (flags & FLAG_BIAS) != 0;
  d.peepholes = (flags & FLAG_PEEPHOLES) != 0;
  d.linearBeforeReset = (flags & FLAG_LINEAR_BEFORE_RESET) != 0;
  d.reverse = (flags & FLAG_REVERSE) != 0;
}

// Panels of op(B) [k, n] at `end` of the region at `base` when the layer has that matrix (panels 0
// where not); with place false, only measured. Returns where the next buffer goes.
function placePanels(p: PackedMatrix, base: usize, end: u64, k: i32, n: i32, present: bool, place: bool): u64 {
  if (place) p.panels = present ? base + <usize>end : 0;
  return present ? end + packedMatrixBytes(k, n) : end;
}

// Places (or, with place false, only measures) parameters, folded bias and forward panels after the
// headers; returns the region's size from the descriptor on.
function layoutLayer(d: LayerDesc, place: bool): u64 {
  const base = changetype<usize>(d);
  const gh = <u64>d.gateSize;
  const h = <u64>d.hiddenSize;
  const hout = <u64>d.outSize;
  let end = <u64>LAYER_HEADER_BYTES;
  if (place) d.params = base + <usize>end;
  if (place) d.wIh = base + <usize>end;
  end += floatBytes(gh * <u64>d.inputSize);
  if (place) d.wHh = base + <usize>end;
  end += floatBytes(gh * hout);
  if (place) d.bIh = d.bias ? base + <usize>end : 0;
  if (d.bias) end += floatBytes(gh);
  if (place) d.bHh = d.bias ? base + <usize>end : 0;
  if (d.bias) end += floatBytes(gh);
  if (place) d.wHr = d.projSize > 0 ? base + <usize>end : 0;
  if (d.projSize > 0) end += floatBytes(hout * h);
  if (place) d.wPeep = d.peepholes ? base + <usize>end : 0;
  if (d.peepholes) end += floatBytes(3 * h);
  if (place) d.paramsBytes = base + <usize>end - d.params;
  if (place) d.inputBias = base + <usize>end;
  end += floatBytes(gh);
  end = placePanels(d.wIhT, base, end, d.inputSize, d.gateSize, true, place);
  end = placePanels(d.wHhT, base, end, d.outSize, d.gateCols, true, place);
  end = placePanels(d.wHnT, base, end, d.hiddenSize, d.hiddenSize, d.candidateApart, place);
  return placePanels(d.wHrT, base, end, d.hiddenSize, d.outSize, d.projSize > 0, place);
}

// The backward panels, in their own region (allocated on the first backward).
function layoutBackward(d: LayerDesc, region: usize, place: bool): u64 {
  let end = placePanels(d.wIhB, region, 0, d.gateSize, d.inputSize, true, place);
  end = placePanels(d.wHhB, region, end, d.recurrentRows, d.outSize, true, place);
  end = placePanels(d.wHnB, region, end, d.hiddenSize, d.hiddenSize, d.splitCandidate, place);
  return placePanels(d.wHrB, region, end, d.outSize, d.hiddenSize, d.projSize > 0, place);
}

// Bytes of the region a layer of this spec needs (f64: the host checks it against the address space).
export function layerBytes(cell: i32, inputSize: i32, hiddenSize: i32, projSize: i32, flags: i32): f64 {
  setSpec(sizing, cell, inputSize, hiddenSize, projSize, flags);
  return <f64>layoutLayer(sizing, false);
}

// Sets up a layer in its region (layerBytes long) at `d`; the host then copies the parameters to
// layerParam(d, i) and calls layerPack.
export function layerInit(d: LayerDesc, cell: i32, inputSize: i32, hiddenSize: i32, projSize: i32, flags: i32): void {
  setSpec(d, cell, inputSize, hiddenSize, projSize, flags);
  const headers = changetype<usize>(d) + offsetof<LayerDesc>();
  const size = offsetof<PackedMatrix>();
  d.wIhT = changetype<PackedMatrix>(headers);
  d.wHhT = changetype<PackedMatrix>(headers + size);
  d.wHnT = changetype<PackedMatrix>(headers + 2 * size);
  d.wHrT = changetype<PackedMatrix>(headers + 3 * size);
  d.wIhB = changetype<PackedMatrix>(headers + 4 * size);
  d.wHhB = changetype<PackedMatrix>(headers + 5 * size);
  d.wHnB = changetype<PackedMatrix>(headers + 6 * size);
  d.wHrB = changetype<PackedMatrix>(headers + 7 * size);
  layoutLayer(d, true);
}

// Where parameter i (0 wIh, 1 wHh, 2 bIh, 3 bHh, 4 wHr, 5 wPeep) goes; 0 when the layer has none.
export function layerParam(d: LayerDesc, i: i32): usize {
  switch (i) {
    case 0: return d.wIh;
    case 1: return d.wHh;
    case 2: return d.bIh;
    case 3: return d.bHh;
    case 4: return d.wHr;
    case 5: return d.wPeep;
  }
  return 0;
}

export function layerParamsBytes(d: LayerDesc): usize {
  return d.paramsBytes;
}

// Folds the biases that sit outside every gate product into one vector added to the input projection,
// and packs the forward weights.
export function layerPack(d: LayerDesc): void {
  const h = d.hiddenSize;
  const gh = d.gateSize;
  const hout = d.outSize;
  const inSize = d.inputSize;
  // GRU with linear-before-reset keeps rn inside r ⊙ (Rn h + rn), so it cannot fold.
  const keepCandidateRecurrentBias = d.cell == CELL_GRU && d.linearBeforeReset;
  for (let j = 0; j < gh; j++) {
    let b: f32 = 0;
    if (d.bias) {
      const inside = keepCandidateRecurrentBias && j >= 2 * h;
      b = load<f32>(at(d.bIh, j)) + (inside ? <f32>0 : load<f32>(at(d.bHh, j)));
    }
    store<f32>(at(d.inputBias, j), b);
  }
  packMatrix(d.wIhT, d.wIhT.panels, inSize, gh, d.wIh, <usize>inSize, true);
  packMatrix(d.wHhT, d.wHhT.panels, hout, d.gateCols, d.wHh, <usize>hout, true);
  if (d.candidateApart) packMatrix(d.wHnT, d.wHnT.panels, h, h, at(d.wHh, 2 * h * h), <usize>h, true);
  if (d.projSize > 0) packMatrix(d.wHrT, d.wHrT.panels, h, hout, d.wHr, <usize>h, true);
}

export function layerBackwardBytes(d: LayerDesc): f64 {
  return <f64>layoutBackward(d, 0, false);
}

export function layerPackBackward(d: LayerDesc, region: usize): void {
  const h = d.hiddenSize;
  const gh = d.gateSize;
  const hout = d.outSize;
  const inSize = d.inputSize;
  layoutBackward(d, region, true);
  packMatrix(d.wIhB, d.wIhB.panels, gh, inSize, d.wIh, <usize>inSize, false);
  packMatrix(d.wHhB, d.wHhB.panels, d.recurrentRows, hout, d.wHh, <usize>hout, false);
  if (d.splitCandidate) packMatrix(d.wHnB, d.wHnB.panels, h, h, at(d.wHh, 2 * h * h), <usize>h, false);
  if (d.projSize > 0) packMatrix(d.wHrB, d.wHrB.panels, hout, h, d.wHr, <usize>h, false);
}
