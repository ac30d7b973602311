// A worker's result bytes, reused from shard to shard: a new buffer per shard was fresh memory
// that the kernel had to map and zero page by page as the results were written into it, and
// garbage for the collector right after. Shards come longest first, so the first buffer of a run
// fits every later one.
export class ResultBuffers {
  private readonly free: Buffer[] = [];

  /** Keeps at most `kept` idle buffers (one per job a worker holds at once). */
  constructor(private readonly kept: number) {}

  /** `size` bytes at offset 0 of a buffer of their own, until given back. */
  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= size);
    const whole = i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(size);
    return whole.subarray(0, size);
  }

  /**
   * Only once nothing reads `b` any more: after the SET that sends it has been answered (a SET
   * that failed may still be sent again after a reconnection, so its buffer is never given back).
   */
  give(b: Buffer): void {
    const whole = Buffer.from(b.buffer, 0, b.buffer.byteLength);
    this.free.push(whole);
    this.free.sort((x, y) => x.byteLength - y.byteLength);
    if (this.free.length > this.kept) this.free.shift();
  }
}
