import { uninitializedFloat32 } from '../uninitialized';

// [A, B, F] <-> [B, A, F]: batchFirst inputs and outputs are swapped to time-major once, at the edges.
export function swapLeadingAxes(src: Float32Array, a: number, b: number, f: number): Float32Array {
  const out = uninitializedFloat32(src.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      out.set(src.subarray((i * b + j) * f, (i * b + j + 1) * f), (j * a + i) * f);
    }
  }
  return out;
}
