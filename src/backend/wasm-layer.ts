// One layer direction on the WebAssembly backend. Creating it copies the parameters into linear
// memory and packs them there, once; each forward or backward copies its arguments in, runs the
// whole sequence in one call into the module, and copies the results out. A training forward hands
// back a copy of its workspace, so any number of tapes can be alive without holding linear memory.
import { typeError } from '../errors';
import type { BackendLayer, BackwardArgs, ForwardArgs, LayerParams, LayerSpec, Workspace } from './types';
import {
  type CheckedForward, hasCellState, outSize, readBackwardArgs, readForwardArgs, readParams, readSpec, requireObject,
} from './wasm-args';
import { CallFrame, type WasmHeap } from './wasm-heap';
import type { KernelConstants, Kernels } from './wasm-module';

/** The parameter fields in the order the module numbers them (layerParam). */
const paramFields: (keyof LayerParams)[] = ['wIh', 'wHh', 'bIh', 'bHh', 'wHr', 'wPeep'];

interface WorkspaceState {
  owner: WasmLayer;
  T: number;
  B: number;
  /** The variants' buffers it holds (KernelConstants.variants bits). */
  variants: number;
  bytes: Uint8Array;
}

// Only workspaces made by a forward here have a state, so a forged or foreign object is recognised.
const workspaceStates = new WeakMap<object, WorkspaceState>();

class WasmWorkspace implements Workspace {
  get byteLength(): number {
    return workspaceStates.get(this)?.bytes.byteLength ?? 0;
  }

  /** Drops the copy now; a released workspace is no longer one backward accepts. */
  release(): void {
    const state = workspaceStates.get(this);
    workspaceStates.delete(this);
    state?.owner.workspaceReleased();
  }
}

/** Linear-memory regions a layer owns: freed by release() or when the layer is garbage collected. */
interface LayerRegions {
  heap: WasmHeap;
  layer: number;
  backward: number; // 0 until the first backward packs its weights
  freed: boolean;
}

function freeRegions(r: LayerRegions): void {
  if (r.freed) return;
  r.freed = true;
  r.heap.release(r.layer);
  if (r.backward) r.heap.release(r.backward);
}

const layerRegions = new FinalizationRegistry<LayerRegions>(freeRegions);

interface CallSizes {
  T: number;
  B: number;
  variants: number;
  workspace: number;
  forwardScratch: number;
  backwardScratch: number;
}

/** rows of `width` floats from src (contiguous) into dst, rows dstStride apart. */
function copyRowsOut(dst: Float32Array, dstStride: number, src: Float32Array, rows: number, width: number): void {
  if (dstStride === width) {
    dst.set(src);
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * width, (r + 1) * width), r * dstStride);
}

/** rows of `width` floats from src (rows srcStride apart) into dst, contiguous. */
function copyRowsIn(dst: Float32Array, src: Float32Array, srcStride: number, rows: number, width: number): void {
  if (srcStride === width) {
    dst.set(src.subarray(0, rows * width));
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * srcStride, r * srcStride + width), r * width);
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

export class WasmLayer implements BackendLayer {
  private readonly spec: LayerSpec;
  private readonly regions: LayerRegions;
  /** Each parameter present: its field, its place among the parameters, its length. */
  private readonly params: { field: keyof LayerParams; offset: number; length: number }[] = [];
  private sizes?: CallSizes;
  /** Workspaces of training forwards not yet released: their backward reads this layer's regions. */
  private liveWorkspaces = 0;
  private released = false;

  constructor(
    private readonly kernels: Kernels,
    specArg: unknown,
    paramsArg: unknown,
  ) {
    const where = 'new WasmLayer';
    this.spec = readSpec(where, specArg);
    const params = readParams(where, paramsArg, this.spec);
    const { exports, constants, heap } = kernels;
    const s = this.spec;
    const flags = specFlags(s, constants.flags);
    const cell = constants.cells[s.cell];
    const layer = heap.allocate(exports.layerBytes(cell, s.inputSize, s.hiddenSize, s.projSize, flags), where);
    this.regions = { heap, layer, backward: 0, freed: false };
    exports.layerInit(layer, cell, s.inputSize, s.hiddenSize, s.projSize, flags);
    const base = kernels.layerParam(layer, 0);
    paramFields.forEach((field, i) => {
      const data = params[field];
      if (!data) return;
      const ptr = kernels.layerParam(layer, i);
      heap.f32(ptr, data.length).set(data);
      this.params.push({ field, offset: ptr - base, length: data.length });
    });
    exports.layerPack(layer);
    layerRegions.register(this, this.regions);
  }

  /**
   * Frees the layer's linear memory now, or once the workspaces of its forwards are released (their
   * backward still runs), rather than at garbage collection: finalizers wait for the event loop, so
   * a synchronous training loop would otherwise hold every step's layers until it returns.
   */
  release(): void {
    this.released = true;
    if (this.liveWorkspaces === 0) freeRegions(this.regions);
  }

  /** @internal */
  workspaceReleased(): void {
    this.liveWorkspaces--;
    if (this.released && this.liveWorkspaces === 0) freeRegions(this.regions);
  }

  forward(args: ForwardArgs): Workspace | undefined {
    return this.runForward('WasmLayer.forward', args);
  }

  async forwardAsync(args: ForwardArgs): Promise<Workspace | undefined> {
    return this.runForward('WasmLayer.forwardAsync', args);
  }

  backward(args: BackwardArgs): void {
    this.runBackward('WasmLayer.backward', args);
  }

  async backwardAsync(args: BackwardArgs): Promise<void> {
    this.runBackward('WasmLayer.backwardAsync', args);
  }

  /** Region sizes for a sequence shape and set of variants, remembered for the last used. */
  private callSizes(T: number, B: number, variants: number): CallSizes {
    if (this.sizes?.T !== T || this.sizes.B !== B || this.sizes.variants !== variants) {
      const { exports } = this.kernels;
      const d = this.regions.layer;
      this.sizes = {
        T,
        B,
        variants,
        workspace: exports.workspaceBytes(d, T, B, variants),
        forwardScratch: exports.forwardScratchBytes(d, B),
        backwardScratch: exports.backwardScratchBytes(d, T, B, variants),
      };
    }
    return this.sizes;
  }

  /** The workspace buffers a forward with these arguments needs for its variants. */
  private variantsOf(a: CheckedForward): number {
    const bits = this.kernels.constants.variants;
    let v = 0;
    if (a.recurrentMask) v |= bits.recurrentMask;
    if (a.zoneoutHiddenMask) v |= bits.zoneoutHiddenMask;
    if (a.zoneoutCellMask) v |= bits.zoneoutCellMask;
    if (a.zoneoutCellMask || a.zoneoutCell > 0) v |= bits.zoneoutCell;
    return v;
  }

  private runForward(where: string, args: unknown): Workspace | undefined {
    if (this.released) throw new Error(`${where}: the layer was released; create a new one for new calls`);
    const a = readForwardArgs(where, args, this.spec);
    const { exports, constants, heap } = this.kernels;
    const { T, B } = a;
    const rows = T * B;
    const hout = outSize(this.spec);
    const H = this.spec.hiddenSize;
    const variants = this.variantsOf(a);
    const sizes = this.callSizes(T, B, variants);
    const frame = new CallFrame(heap, where);
    try {
      const ws = frame.allocate(sizes.workspace);
      heap.f32(ws + constants.workspaceInputOffset, a.x.length).set(a.x);
      const scratch = frame.allocate(sizes.forwardScratch);
      const lengths = frame.copyIn(a.lengths);
      const h0 = frame.copyIn(a.h0);
      const c0 = frame.copyIn(a.c0);
      const recurrentMask = frame.copyIn(a.recurrentMask);
      const zoneoutHiddenMask = frame.copyIn(a.zoneoutHiddenMask);
      const zoneoutCellMask = frame.copyIn(a.zoneoutCellMask);
      const y = frame.allocate(rows * hout * 4);
      const hN = frame.allocate(B * hout * 4);
      const cN = hasCellState(this.spec) ? frame.allocate(B * H * 4) : 0;
      exports.layerForward(this.regions.layer, ws, scratch, sizes.forwardScratch, T, B, lengths, h0, c0, y, hN, cN,
        variants, recurrentMask, a.zoneoutHidden, zoneoutHiddenMask, a.zoneoutCell, zoneoutCellMask);
      copyRowsOut(a.y, a.yStride, heap.f32(y, rows * hout), rows, hout);
      a.hN.set(heap.f32(hN, B * hout));
      if (a.cN) a.cN.set(heap.f32(cN, B * H));
      if (!a.training) return undefined;
      const workspace = new WasmWorkspace();
      workspaceStates.set(workspace, { owner: this, T, B, variants, bytes: heap.u8(ws, sizes.workspace).slice() });
      this.liveWorkspaces++;
      return workspace;
    } finally {
      frame.release();
    }
  }

  private workspaceOf(where: string, v: unknown): WorkspaceState {
    const state = v !== null && typeof v === 'object' ? workspaceStates.get(v) : undefined;
    if (!state) throw typeError(where, 'workspace', 'a Workspace returned by forward with training: true', v);
    if (state.owner !== this) {
      throw new TypeError(`${where}: workspace must come from a forward of this layer, got one from another layer`);
    }
    return state;
  }

  /** The backward products' weights, packed on the first backward (inference never pays for them). */
  private backwardWeights(where: string): void {
    if (this.regions.backward) return;
    const { exports, heap } = this.kernels;
    const d = this.regions.layer;
    this.regions.backward = heap.allocate(exports.layerBackwardBytes(d), where);
    exports.layerPackBackward(d, this.regions.backward);
  }

  private runBackward(where: string, args: unknown): void {
    const o = requireObject(where, 'arguments', args);
    const state = this.workspaceOf(where, o.workspace);
    const { T, B, variants } = state;
    const a = readBackwardArgs(where, o, this.spec, T, B);
    const { exports, heap } = this.kernels;
    const rows = T * B;
    const hout = outSize(this.spec);
    const H = this.spec.hiddenSize;
    const I = this.spec.inputSize;
    this.backwardWeights(where);
    const sizes = this.callSizes(T, B, variants);
    const frame = new CallFrame(heap, where);
    try {
      const ws = frame.allocate(state.bytes.byteLength);
      heap.u8(ws, state.bytes.byteLength).set(state.bytes);
      const scratch = frame.allocate(sizes.backwardScratch);
      let dY = 0;
      if (a.dY) {
        dY = frame.allocate(rows * hout * 4);
        copyRowsIn(heap.f32(dY, rows * hout), a.dY, a.dYStride, rows, hout);
      }
      const dhN = frame.copyIn(a.dhN);
      const dcN = frame.copyIn(a.dcN);
      const dX = frame.allocate(rows * I * 4);
      const dh0 = frame.allocate(B * hout * 4);
      const dc0 = a.dc0 ? frame.allocate(B * H * 4) : 0;
      const grads = frame.allocate(this.kernels.layerParamsBytes(this.regions.layer));
      exports.layerBackward(this.regions.layer, ws, scratch, sizes.backwardScratch, dY, dhN, dcN, dX, dh0, dc0, grads);
      a.dX.set(heap.f32(dX, rows * I));
      a.dh0.set(heap.f32(dh0, B * hout));
      if (a.dc0) a.dc0.set(heap.f32(dc0, B * H));
      for (const p of this.params) {
        const into = a.grads[p.field]!;
        const computed = heap.f32(grads + p.offset, p.length);
        for (let i = 0; i < p.length; i++) into[i] += computed[i];
      }
    } finally {
      frame.release();
    }
  }
}
