// One layer direction inside one instance of the module: its parameters copied into that instance's
// linear memory and packed there, and the kernel calls over a slice of a call's batch rows. The main
// thread's synchronous calls and every worker thread each hold their own. Arguments arrive checked
// (wasm-args.ts); the arrays are the whole call's, and a call reads and writes only its rows.
import type { CheckedBackward, CheckedForward } from './wasm-args';
import { hasCellState, outputSize, paramFields, paramShapes } from './layer-shape';
import { CallFrame, type WasmHeap } from './wasm-heap';
import type { KernelConstants, Kernels } from './wasm-module';
import { gatherBatchRows, type RowRange, scatterBatchRows } from './wasm-rows';
import type { LayerParams, LayerSpec } from './types';

/** A parameter in the compact layout (the present ones back to back, in paramFields order) that copies and gradients travel in. */
export interface ParamSlot {
  field: keyof LayerParams;
  /** Module numbering (layerParam's i). */
  index: number;
  offset: number;
  length: number;
}

/** The parameters a layer of this spec has, in the compact layout; `total` floats in all. */
export function paramSlots(spec: LayerSpec): { slots: ParamSlot[]; total: number } {
  const slots: ParamSlot[] = [];
  let total = 0;
  for (const [field, shape] of paramShapes(spec)) {
    const length = shape.reduce((n, d) => n * d, 1);
    slots.push({ field, index: paramFields.indexOf(field), offset: total, length });
    total += length;
  }
  return { slots, total };
}

/** A backward's arrays, spanning all B rows; the parameter gradients go elsewhere (backwardRows). */
export type RowsBackward = Omit<CheckedBackward, 'grads'>;

/** A training forward's record of one run of rows: the kernel's workspace region, copied out. */
export interface RowsWorkspace {
  T: number;
  rows: number;
  /** The variants' buffers it holds (KernelConstants.variants bits). */
  variants: number;
  bytes: Uint8Array;
}

interface CallSizes {
  workspace: number;
  forwardScratch: number;
  backwardScratch: number;
}

/** The spec's booleans as the module's flag bits. */
function specFlags(s: LayerSpec, bits: KernelConstants['flags']): number {
  let flags = 0;
  if (s.bias) flags |= bits.bias;
  if (s.peepholes) flags |= bits.peepholes;
  if (s.linearBeforeReset) flags |= bits.linearBeforeReset;
  if (s.reverse) flags |= bits.reverse;
  return flags;
}

/** The workspace buffers a forward with these arguments needs for its variants. */
export function variantsOf(kernels: Kernels, a: CheckedForward): number {
  const bits = kernels.constants.variants;
  let v = 0;
  if (a.recurrentMask) v |= bits.recurrentMask;
  if (a.zoneoutHiddenMask) v |= bits.zoneoutHiddenMask;
  if (a.zoneoutCellMask) v |= bits.zoneoutCellMask;
  if (a.zoneoutCellMask || a.zoneoutCell > 0) v |= bits.zoneoutCell;
  return v;
}

/** Workspace memory of its own, shared so that any thread can run the backward. */
function ownBuffer(bytes: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(bytes));
}

/** Rows `r` of a [B, width] array, or undefined. */
function rowsOf<A extends Float32Array | Int32Array>(a: A | undefined, r: RowRange, width: number): A | undefined {
  return a?.subarray(r.b0 * width, (r.b0 + r.rows) * width) as A | undefined;
}

export class PackedLayer {
  private readonly heap: WasmHeap;
  private readonly layer: number;
  private backward = 0; // 0 until the first backward packs its weights
  private freed = false;
  private readonly slots: ParamSlot[];
  /** Region sizes by sequence shape and variants; calls of a training run alternate between a few. */
  private readonly sizes = new Map<string, CallSizes>();

  constructor(
    private readonly kernels: Kernels,
    readonly spec: LayerSpec,
    params: LayerParams,
    where: string,
  ) {
    const { exports, constants, heap } = kernels;
    const s = spec;
    const flags = specFlags(s, constants.flags);
    const cell = constants.cells[s.cell];
    this.heap = heap;
    this.layer = heap.allocate(exports.layerBytes(cell, s.inputSize, s.hiddenSize, s.projSize, flags), where);
    exports.layerInit(this.layer, cell, s.inputSize, s.hiddenSize, s.projSize, flags);
    this.slots = paramSlots(s).slots;
    for (const slot of this.slots) heap.f32(kernels.layerParam(this.layer, slot.index), slot.length).set(params[slot.field]!);
    exports.layerPack(this.layer);
  }

  /** Returns the linear memory to the heap; the layer takes no call after. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.heap.release(this.layer);
    if (this.backward) this.heap.release(this.backward);
  }

  private callSizes(T: number, rows: number, variants: number): CallSizes {
    const key = `${T},${rows},${variants}`;
    let s = this.sizes.get(key);
    if (!s) {
      const { exports } = this.kernels;
      s = {
        workspace: exports.workspaceBytes(this.layer, T, rows, variants),
        forwardScratch: exports.forwardScratchBytes(this.layer, rows),
        backwardScratch: exports.backwardScratchBytes(this.layer, T, rows, variants),
      };
      if (this.sizes.size >= 8) this.sizes.clear();
      this.sizes.set(key, s);
    }
    return s;
  }

  /**
   * Forward of batch rows `r` of the call `a` (whose arrays span all B rows): reads their inputs,
   * writes their outputs, and returns their workspace when a.training, copied into a buffer of
   * exactly its size from workspaceBuffer.
   */
  forwardRows(where: string, a: CheckedForward, r: RowRange, workspaceBuffer: (bytes: number) => Uint8Array = ownBuffer): RowsWorkspace | undefined {
    const { exports, heap } = this.kernels;
    const { T, B } = a;
    const n = r.rows;
    const I = this.spec.inputSize;
    const hout = outputSize(this.spec);
    const H = this.spec.hiddenSize;
    const variants = variantsOf(this.kernels, a);
    const sizes = this.callSizes(T, n, variants);
    const frame = new CallFrame(heap, where);
    try {
      const ws = frame.allocate(sizes.workspace);
      gatherBatchRows(heap.f32(this.kernels.workspaceInput(ws), T * n * I), a.x, T, B, r, I);
      const scratch = frame.allocate(sizes.forwardScratch);
      const lengths = frame.copyIn(a.lengths?.subarray(r.b0, r.b0 + n));
      const h0 = frame.copyIn(rowsOf(a.h0, r, hout));
      const c0 = frame.copyIn(rowsOf(a.c0, r, H));
      const recurrentMask = frame.copyIn(rowsOf(a.recurrentMask, r, hout));
      const zoneoutHiddenMask = this.gatherBytes(frame, a.zoneoutHiddenMask, T, B, r, hout);
      const zoneoutCellMask = this.gatherBytes(frame, a.zoneoutCellMask, T, B, r, H);
      const y = frame.allocate(T * n * hout * 4);
      const hN = frame.allocate(n * hout * 4);
      const cN = hasCellState(this.spec.cell) ? frame.allocate(n * H * 4) : 0;
      exports.layerForward(this.layer, ws, scratch, sizes.forwardScratch, T, n, lengths, h0, c0, y, hN, cN,
        variants, recurrentMask, a.zoneoutHidden, zoneoutHiddenMask, a.zoneoutCell, zoneoutCellMask);
      scatterBatchRows(a.y, heap.f32(y, T * n * hout), T, B, r, hout, a.yStride);
      a.hN.set(heap.f32(hN, n * hout), r.b0 * hout);
      if (a.cN) a.cN.set(heap.f32(cN, n * H), r.b0 * H);
      if (!a.training) return undefined;
      // A copy outside linear memory, so any number of tapes can be alive without holding it.
      const bytes = workspaceBuffer(sizes.workspace);
      bytes.set(heap.u8(ws, sizes.workspace));
      return { T, rows: n, variants, bytes };
    } finally {
      frame.release();
    }
  }

  private gatherBytes(frame: CallFrame, mask: Uint8Array | undefined, T: number, B: number, r: RowRange, width: number): number {
    if (!mask) return 0;
    const ptr = frame.allocate(T * r.rows * width);
    gatherBatchRows(this.heap.u8(ptr, T * r.rows * width), mask, T, B, r, width);
    return ptr;
  }

  /** The backward products' weights, packed on the first backward (inference never pays for them). */
  private backwardWeights(where: string): void {
    if (this.backward) return;
    const { exports, heap } = this.kernels;
    this.backward = heap.allocate(exports.layerBackwardBytes(this.layer), where);
    exports.layerPackBackward(this.layer, this.backward);
  }

  /**
   * Backward of batch rows `r` from their workspace: writes their dX, dh0, dc0 rows (a's arrays span
   * all B rows) and their parameter gradients into `partial` (compact layout), or adds them to it
   * when `add`: a left fold over groups, one rounding per addition.
   */
  backwardRows(where: string, ws: RowsWorkspace, a: RowsBackward, B: number, r: RowRange, partial: Float32Array, add: boolean): void {
    const { exports, heap } = this.kernels;
    const { T } = ws;
    const n = r.rows;
    const hout = outputSize(this.spec);
    const H = this.spec.hiddenSize;
    const I = this.spec.inputSize;
    this.backwardWeights(where);
    const sizes = this.callSizes(T, n, ws.variants);
    const frame = new CallFrame(heap, where);
    try {
      const wsPtr = frame.allocate(ws.bytes.byteLength);
      heap.u8(wsPtr, ws.bytes.byteLength).set(ws.bytes);
      const scratch = frame.allocate(sizes.backwardScratch);
      let dY = 0;
      if (a.dY) {
        dY = frame.allocate(T * n * hout * 4);
        gatherBatchRows(heap.f32(dY, T * n * hout), a.dY, T, B, r, hout, a.dYStride);
      }
      const dhN = frame.copyIn(rowsOf(a.dhN, r, hout));
      const dcN = frame.copyIn(rowsOf(a.dcN, r, H));
      const dX = frame.allocate(T * n * I * 4);
      const dh0 = frame.allocate(n * hout * 4);
      const dc0 = a.dc0 ? frame.allocate(n * H * 4) : 0;
      const grads = frame.allocate(this.kernels.layerParamsBytes(this.layer));
      exports.layerBackward(this.layer, wsPtr, scratch, sizes.backwardScratch, dY, dhN, dcN, dX, dh0, dc0, grads);
      scatterBatchRows(a.dX, heap.f32(dX, T * n * I), T, B, r, I);
      a.dh0.set(heap.f32(dh0, n * hout), r.b0 * hout);
      if (a.dc0) a.dc0.set(heap.f32(dc0, n * H), r.b0 * H);
      for (const slot of this.slots) {
        const computed = heap.f32(this.kernels.layerGradient(this.layer, grads, slot.index), slot.length);
        if (!add) {
          partial.set(computed, slot.offset);
          continue;
        }
        const into = partial.subarray(slot.offset, slot.offset + slot.length);
        for (let j = 0; j < slot.length; j++) into[j] += computed[j];
      }
    } finally {
      frame.release();
    }
  }
}
