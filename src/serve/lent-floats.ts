// Float arrays a Batcher lends each batch and takes back for the next: its packed input, the layer's
// outputs and states. One batch is in flight at a time and its results are copied out row by row
// before the next one is built, so each slot's memory can serve batch after batch. Fresh memory
// would cost a page fault per 4 KiB on first write (docs/PERFORMANCE.md, "Batcher").
import { uninitializedFloat32 } from '../uninitialized';

export class LentFloats {
  private readonly slots = new Map<string, Float32Array>();

  /** n floats of `slot`, holding whatever the last batch left there. */
  readonly take = (n: number, slot: string): Float32Array => {
    let a = this.slots.get(slot);
    if (a === undefined || a.length < n) {
      // Headroom, so batches that grow a little at a time do not reallocate each time.
      a = uninitializedFloat32(Math.max(n, Math.ceil((a?.length ?? 0) * 1.5)));
      this.slots.set(slot, a);
    }
    return a.subarray(0, n);
  };
}
