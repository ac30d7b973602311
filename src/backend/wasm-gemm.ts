// Backend.gemm on the WebAssembly module: checks the operands as the addon does, copies them into
// linear memory, multiplies there, copies c back.
import type { GemmArgs } from './types';
import { boolean, float32, integer, requireObject, snapshot } from './wasm-args';
import { CallFrame } from './wasm-heap';
import type { Kernels } from './wasm-module';

const where = 'gemm';
const MAX_DIM = 2 ** 31 - 1;

export function wasmGemm(kernels: Kernels, args: GemmArgs): void {
  const o = snapshot(requireObject(where, 'arguments', args), ['m', 'n', 'k', 'transA', 'transB', 'accumulate', 'a', 'b', 'c']);
  const m = integer(where, o, 'm', 0, MAX_DIM);
  const n = integer(where, o, 'n', 0, MAX_DIM);
  const k = integer(where, o, 'k', 0, MAX_DIM);
  const transA = boolean(where, o, 'transA', false);
  const transB = boolean(where, o, 'transB', false);
  const accumulate = boolean(where, o, 'accumulate', false);
  const a = float32(where, o, 'a', m * k)!;
  const b = float32(where, o, 'b', k * n)!;
  const c = float32(where, o, 'c', m * n)!;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0);
    return;
  }
  const frame = new CallFrame(kernels.heap, where);
  try {
    const pa = frame.copyIn(a);
    const pb = frame.copyIn(b);
    const pc = accumulate ? frame.copyIn(c) : frame.allocate(c.byteLength);
    kernels.exports.gemm(m, n, k, pa, transA, pb, transB, pc, accumulate);
    c.set(kernels.heap.f32(pc, c.length));
  } finally {
    frame.release();
  }
}
