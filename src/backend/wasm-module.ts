// The compiled kernels (assembly/, built to dist/wasm/cellscan.wasm) as TypeScript sees them, and
// their instantiation against one memory this side owns. Addresses are unsigned 32-bit in the module
// but come back from exports as signed numbers, hence the `>>> 0` on every address read here.
import { WASM_MAX_BYTES, WASM_PAGE_BYTES, WasmHeap } from './wasm-heap';
import type { WasmGlobal, WasmJsApi } from './wasm-js-api';

/** The exports exactly as assembly/index.ts declares them (addresses and sizes are numbers). */
interface RawExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  useGemmScratch(region: number): void;
  gemm(m: number, n: number, k: number, a: number, transA: boolean, b: number, transB: boolean, c: number, accumulate: boolean): void;
  layerBytes(cell: number, inputSize: number, hiddenSize: number, projSize: number, flags: number): number;
  layerInit(d: number, cell: number, inputSize: number, hiddenSize: number, projSize: number, flags: number): void;
  layerParam(d: number, i: number): number;
  layerParamsBytes(d: number): number;
  layerPack(d: number): void;
  layerBackwardBytes(d: number): number;
  layerPackBackward(d: number, region: number): void;
  workspaceBytes(d: number, T: number, B: number, variants: number): number;
  forwardScratchBytes(d: number, B: number): number;
  backwardScratchBytes(d: number, T: number, B: number, variants: number): number;
  layerForward(
    d: number, ws: number, scratch: number, scratchBytes: number, T: number, B: number,
    lengths: number, h0: number, c0: number, y: number, hN: number, cN: number,
    variants: number, recurrentMask: number, zoneoutHidden: number, zoneoutHiddenMask: number,
    zoneoutCell: number, zoneoutCellMask: number,
  ): void;
  layerBackward(
    d: number, ws: number, scratch: number, scratchBytes: number, dY: number, dhN: number, dcN: number,
    dX: number, dh0: number, dc0: number, grads: number,
  ): void;
  workspaceInput(ws: number): number;
  layerGradient(d: number, grads: number, i: number): number;
  sigmoidFloats(dst: number, src: number, n: number): void;
  tanhFloats(dst: number, src: number, n: number): void;
  GEMM_MR: WasmGlobal;
  GEMM_NR: WasmGlobal;
  CELL_LSTM: WasmGlobal;
  CELL_GRU: WasmGlobal;
  CELL_RNN_TANH: WasmGlobal;
  CELL_RNN_RELU: WasmGlobal;
  FLAG_BIAS: WasmGlobal;
  FLAG_PEEPHOLES: WasmGlobal;
  FLAG_LINEAR_BEFORE_RESET: WasmGlobal;
  FLAG_REVERSE: WasmGlobal;
  VARIANT_RECURRENT_MASK: WasmGlobal;
  VARIANT_ZONEOUT_HIDDEN_MASK: WasmGlobal;
  VARIANT_ZONEOUT_CELL_MASK: WasmGlobal;
  VARIANT_ZONEOUT_CELL: WasmGlobal;
}

export interface KernelConstants {
  gemmTile: [mr: number, nr: number];
  cells: Record<'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu', number>;
  flags: { bias: number; peepholes: number; linearBeforeReset: number; reverse: number };
  /** Which of the variants' buffers a workspace holds. */
  variants: { recurrentMask: number; zoneoutHiddenMask: number; zoneoutCellMask: number; zoneoutCell: number };
}

export interface Kernels {
  /** The compiled module, which worker threads instantiate again (posting it shares the compiled code). */
  readonly module: object;
  readonly exports: RawExports;
  readonly constants: KernelConstants;
  readonly heap: WasmHeap;
  /** Where parameter i (wIh, wHh, bIh, bHh, wHr, wPeep) of layer d lives, or 0. */
  layerParam(d: number, i: number): number;
  layerParamsBytes(d: number): number;
  /** Where a forward's input goes in workspace region ws. */
  workspaceInput(ws: number): number;
  /** Where parameter i's gradient sits in a gradient block `grads` of layer d, or 0. */
  layerGradient(d: number, grads: number, i: number): number;
}

/** Packing buffers every product shares; allocated once, for the life of the module. */
function placeGemmScratch(exports: RawExports, heap: WasmHeap): void {
  const region = heap.allocate(exports.gemmScratchBytes() >>> 0, 'cellscan wasm');
  exports.useGemmScratch(region);
}

export function instantiateKernels(wasm: WasmJsApi, bytes: Uint8Array): Kernels {
  return instantiateCompiled(wasm, new wasm.Module(bytes));
}

/** An instance of an already compiled module, with a memory of its own. */
export function instantiateCompiled(wasm: WasmJsApi, module: object): Kernels {
  const memory = new wasm.Memory({ initial: 1, maximum: WASM_MAX_BYTES / WASM_PAGE_BYTES });
  const instance = new wasm.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as RawExports;
  const value = (g: WasmGlobal) => g.value;
  const constants: KernelConstants = {
    gemmTile: [value(exports.GEMM_MR), value(exports.GEMM_NR)],
    cells: {
      lstm: value(exports.CELL_LSTM),
      gru: value(exports.CELL_GRU),
      rnn_tanh: value(exports.CELL_RNN_TANH),
      rnn_relu: value(exports.CELL_RNN_RELU),
    },
    flags: {
      bias: value(exports.FLAG_BIAS),
      peepholes: value(exports.FLAG_PEEPHOLES),
      linearBeforeReset: value(exports.FLAG_LINEAR_BEFORE_RESET),
      reverse: value(exports.FLAG_REVERSE),
    },
    variants: {
      recurrentMask: value(exports.VARIANT_RECURRENT_MASK),
      zoneoutHiddenMask: value(exports.VARIANT_ZONEOUT_HIDDEN_MASK),
      zoneoutCellMask: value(exports.VARIANT_ZONEOUT_CELL_MASK),
      zoneoutCell: value(exports.VARIANT_ZONEOUT_CELL),
    },
  };
  const heap = new WasmHeap(memory, exports.heapBase() >>> 0);
  placeGemmScratch(exports, heap);
  return {
    module,
    exports,
    constants,
    heap,
    layerParam: (d, i) => exports.layerParam(d, i) >>> 0,
    layerParamsBytes: (d) => exports.layerParamsBytes(d) >>> 0,
    workspaceInput: (ws) => exports.workspaceInput(ws) >>> 0,
    layerGradient: (d, grads, i) => exports.layerGradient(d, grads, i) >>> 0,
  };
}
