// Arrays that a backend overwrites in full skip the zero fill of `new Float32Array(n)`: for the
// output of an LSTM T=100 B=32 H=256 forward (3.2 MB) that fill took 0.5-0.8 ms of an 11 ms call
// (allocation timed around the addon's forward, 2 threads). Only for results written element by
// element before anyone reads them; test/fresh-outputs.test.ts fills this memory with NaN to prove
// every result is.

/** A Float32Array of n elements whose contents are whatever the allocator held. */
export function uninitializedFloat32(n: number): Float32Array<ArrayBuffer> {
  // allocUnsafeSlow, not allocUnsafe: a small allocUnsafe shares one pooled ArrayBuffer, which
  // `.buffer` would hand to the caller along with other arrays' bytes.
  const bytes = Buffer.allocUnsafeSlow(n * Float32Array.BYTES_PER_ELEMENT);
  return new Float32Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
}

/** A Uint8Array of n elements whose contents are whatever the allocator held (see above). */
export function uninitializedBytes(n: number): Uint8Array<ArrayBuffer> {
  const bytes = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
}
