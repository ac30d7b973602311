// SharedArrayBuffers kept for reuse. The worker threads read a call's inputs and write its results
// in shared memory, but shared memory must not be dropped call after call: V8 does not count it
// towards collecting garbage (200 dropped 6 MB buffers left 1.1 GB resident, the same in plain
// ArrayBuffers 34 MB), and on a machine that pays for every first touch of a page (a microVM that
// reports free memory back to its host: 6 ms a MB here) fresh buffers cost more than the
// arithmetic of many calls. So buffers are taken from here and given back when the call (or the
// tape) is done with them, sized in powers of two so that calls of nearby shapes share them; the
// unused tail of a buffer is never touched and costs no memory.

const MIN_BYTES = 4096;

function sizeClass(bytes: number): number {
  return Math.max(MIN_BYTES, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
}

export class SharedStash {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private held = 0;

  /** capacity: bytes kept at most; a buffer given back past it is left to the garbage collector. */
  constructor(private readonly capacity: number) {}

  /** Bytes kept now, for tests. */
  get bytesHeld(): number {
    return this.held;
  }

  /** A buffer of at least `bytes`; its contents are whatever its last user left. */
  take(bytes: number): SharedArrayBuffer {
    const size = sizeClass(bytes);
    const buffer = this.free.get(size)?.pop();
    if (!buffer) return new SharedArrayBuffer(size);
    this.held -= size;
    return buffer;
  }

  give(buffer: ArrayBufferLike | undefined): void {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== sizeClass(buffer.byteLength)) return;
    if (this.held + buffer.byteLength > this.capacity) return;
    let list = this.free.get(buffer.byteLength);
    if (!list) this.free.set(buffer.byteLength, (list = []));
    if (list.includes(buffer)) return;
    list.push(buffer);
    this.held += buffer.byteLength;
  }

  floats(n: number): Float32Array {
    return new Float32Array(this.take(n * 4), 0, n);
  }

  /** A stashed copy of `a` (or undefined), same type. */
  copy<A extends Float32Array | Int32Array | Uint8Array>(a: A | undefined): A | undefined {
    if (!a) return undefined;
    const ctor = a.constructor as new (b: SharedArrayBuffer, offset: number, length: number) => A;
    const out = new ctor(this.take(a.byteLength), 0, a.length);
    out.set(a as never);
    return out;
  }
}
