// A worker computes at most `--concurrency` jobs at once but takes one more than that from the
// queue: the extra one fetches and unpacks its shard while another computes (the forward runs off
// the event loop), so the core goes from one shard to the next without waiting on Redis.
export class ComputeSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** `work` once a slot is free, first come first served; the slot is free again when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
