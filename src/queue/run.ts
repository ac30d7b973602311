// One run's jobs from queuing to the last result: inputs stored, jobs added, each output taken
// once (whatever BullMQ redelivers), every key removed at the end. Completions arrive as events;
// when a run hears nothing for a while it asks Redis itself, so a lost event costs seconds, not
// the run; a Redis gone for longer than the producer's timeout, or one that comes back without
// the run's keys (restarted with persistence off), ends the run with an error instead of a wait.
import { Job } from 'bullmq';
import type { QueueKeys } from './keys';
import { QueueConnectionError } from './errors';
import { setPieces } from './pieces-set';
import { type QueueProducer, within } from './producer';
import { KEY_TTL_MS, QUIET_POLL_MS } from './settings';

export interface RunJob {
  name: string;
  /** The job's own fields; run, guard, output (and input, when `input` is given) are added here. */
  data: Record<string, unknown>;
  /** Bytes stored under the job's input key (in pieces, concatenated there), which then also guards its output. */
  input?: readonly Uint8Array[];
}

export interface RunHooks {
  /** Job `index`'s output, exactly once. May throw: the run then fails with that error. */
  output(index: number, bytes: Buffer): void;
  progress?(index: number, data: unknown): void;
  /** A job that failed for good. Absent: the first such job fails the whole run. */
  failed?(index: number, reason: string): void;
}

/** A worker returns this (the completed event carries it). */
export interface JobReturn {
  /** False when the job's guard was gone: its run had ended or Redis lost it. */
  written: boolean;
}

/** Inputs stored (and their jobs added) per round trip while a run starts, at most. */
const CHUNK_BYTES = 4 << 20;

/** At most this many job states are asked for per quiet poll: the rest wait for the next one. */
const STATES_PER_POLL = 50;

class JobRun {
  private readonly keys: QueueKeys;
  private readonly settled: boolean[];
  private remaining: number;
  private readonly fetching = new Set<number>();
  private readonly deletes: Promise<unknown>[] = [];
  private readonly ids: string[];
  private queued = false;
  private polling = false;
  private done = false;
  private readonly begun = Date.now();
  private lastHeard = Date.now();
  private lastRenew = Date.now();
  private stateCursor = 0;
  private timer?: NodeJS.Timeout;
  private stopReconnect?: () => void;
  private stopClose?: () => void;
  private resolve!: () => void;
  private reject!: (e: Error) => void;
  readonly finished: Promise<void>;

  constructor(
    private readonly p: QueueProducer,
    private readonly run: string,
    private readonly jobs: RunJob[],
    private readonly hooks: RunHooks,
    private readonly holds: string[],
  ) {
    this.keys = p.keys;
    this.settled = jobs.map(() => false);
    this.remaining = jobs.length;
    this.ids = jobs.map((_, i) => this.keys.jobId(run, i));
    this.finished = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  private inputKey(i: number): string | undefined {
    return this.jobs[i].input ? this.keys.input(this.run, i) : undefined;
  }

  async start(): Promise<void> {
    const marker = this.keys.run(this.run);
    this.timer = setInterval(() => this.tick(), 250);
    this.stopReconnect = this.p.onReconnect(() => this.poll());
    this.stopClose = this.p.onClose((e) => this.end(e));
    try {
      await this.p.whileReachable(this.p.redis.set(marker, '1', 'PX', KEY_TTL_MS), `starting run ${this.run}`);
      this.ids.forEach((id, i) =>
        this.p.listen(id, {
          completed: () => void this.deliver(i),
          failed: (reason) => this.jobFailed(i, reason),
          progress: (data) => {
            this.lastHeard = Date.now();
            if (!this.done && !this.settled[i]) this.hooks.progress?.(i, data);
          },
        }),
      );
      // A few jobs at a time, each added as soon as its inputs are stored: the workers start on
      // the first shards while the last ones are still on their way.
      for (let from = 0; from < this.jobs.length; ) {
        // Plain commands sent together, not an ioredis pipeline: a pipeline copies megabyte
        // arguments into one growing buffer and took ten times as long here.
        const sets: Promise<unknown>[] = [];
        const bulk = [];
        let bytes = 0;
        for (; from < this.jobs.length && (bulk.length === 0 || (bulk.length < 16 && bytes < CHUNK_BYTES)); from++) {
          const job = this.jobs[from];
          const input = this.inputKey(from);
          if (input) sets.push(setPieces(this.p.redis, input, job.input!, KEY_TTL_MS));
          for (const piece of job.input ?? []) bytes += piece.byteLength;
          const data = { ...job.data, run: this.run, guard: input ?? marker, output: this.keys.output(this.run, from), ...(input ? { input } : {}) };
          bulk.push({ name: job.name, data, opts: { jobId: this.ids[from] } });
        }
        await this.p.whileReachable(Promise.all(sets), `storing the inputs of run ${this.run}`);
        await this.p.whileReachable(this.p.queue.addBulk(bulk), `queuing the jobs of run ${this.run}`);
        if (this.done) return;
      }
      this.queued = true;
      this.lastHeard = Date.now();
    } catch (e) {
      this.end(e as Error);
    }
  }

  private tick(): void {
    if (this.done) return;
    if (this.p.downFor(this.begun) > this.p.redisTimeoutMs) return this.end(this.p.unreachable(`waiting for run ${this.run}`, this.begun));
    const now = Date.now();
    if (this.queued && now - this.lastHeard > QUIET_POLL_MS) void this.poll();
    if (now - this.lastRenew > KEY_TTL_MS / 4) this.renew();
  }

  private lost(): QueueConnectionError {
    return new QueueConnectionError(
      `${this.p.where}: Redis lost run ${this.run} (its keys are gone: Redis restarted without persistence, or they were deleted), ` +
        'so no worker will finish it; run it again',
    );
  }

  /** Asks Redis what events may have missed: is the run still there, which outputs are written, which jobs failed. */
  private async poll(): Promise<void> {
    if (this.polling || this.done || !this.queued) return;
    this.polling = true;
    this.lastHeard = Date.now();
    try {
      const pending = this.settled.flatMap((s, i) => (s ? [] : [i]));
      const pipe = this.p.redis.pipeline();
      pipe.exists(this.keys.run(this.run));
      for (const i of pending) pipe.exists(this.keys.output(this.run, i));
      const r = (await pipe.exec()) ?? [];
      if (this.done) return;
      if (r[0]?.[1] === 0) return this.end(this.lost());
      const absent = pending.filter((i, k) => {
        if (r[k + 1]?.[1] === 1) void this.deliver(i);
        return r[k + 1]?.[1] === 0;
      });
      // A failure whose event was missed shows only in the job's state; a few jobs per poll.
      const from = this.stateCursor % Math.max(1, absent.length);
      const ask = [...absent.slice(from), ...absent.slice(0, from)].slice(0, STATES_PER_POLL);
      this.stateCursor += ask.length;
      for (const i of ask) {
        const state = await this.p.queue.getJobState(this.ids[i]);
        if (this.done || this.settled[i]) continue;
        if (state === 'failed') {
          const job = await Job.fromId(this.p.queue, this.ids[i]);
          this.jobFailed(i, job?.failedReason ?? 'failed');
        } else if (state === 'unknown') {
          // Gone from BullMQ: completed and removed (then its output is there now) or lost.
          if ((await this.p.redis.exists(this.keys.output(this.run, i))) === 1) void this.deliver(i);
          else if (!this.settled[i] && !this.fetching.has(i)) return this.end(this.lost());
        }
      }
    } catch {
      // A connection in trouble: the watchdog in tick() decides when that is an error.
    } finally {
      this.polling = false;
    }
  }

  private renew(): void {
    this.lastRenew = Date.now();
    const pipe = this.p.redis.pipeline();
    pipe.pexpire(this.keys.run(this.run), KEY_TTL_MS);
    this.settled.forEach((s, i) => {
      const key = this.inputKey(i);
      if (!s && key) pipe.pexpire(key, KEY_TTL_MS);
    });
    pipe.exec().catch(() => {});
    for (const hash of this.holds) this.p.blobs.hold(hash, this.run, KEY_TTL_MS).catch(() => {});
  }

  private async deliver(i: number): Promise<void> {
    this.lastHeard = Date.now();
    if (this.settled[i] || this.done || this.fetching.has(i)) return;
    this.fetching.add(i);
    try {
      const out = this.keys.output(this.run, i);
      const bytes = await this.p.redis.getBuffer(out);
      if (this.settled[i] || this.done) return;
      // Completed without an output: the worker found the job's guard gone, so Redis lost the run.
      if (bytes === null) return this.end(this.lost());
      this.settled[i] = true;
      this.remaining--;
      const input = this.inputKey(i);
      this.deletes.push(this.p.redis.del(...(input ? [out, input] : [out])).catch(() => {}));
      this.hooks.output(i, bytes);
      if (this.remaining === 0) this.end();
    } catch (e) {
      this.end(e as Error);
    } finally {
      this.fetching.delete(i);
    }
  }

  private jobFailed(i: number, reason: string): void {
    this.lastHeard = Date.now();
    if (this.settled[i] || this.done) return;
    // Reported here, so BullMQ need not keep it.
    this.p.queue.remove(this.ids[i]).catch(() => {});
    if (!this.hooks.failed) return this.end(new Error(`${this.p.where}: job ${i} of run ${this.run} failed on a worker: ${reason}`));
    this.settled[i] = true;
    this.remaining--;
    try {
      this.hooks.failed(i, reason);
    } catch (e) {
      return this.end(e as Error);
    }
    if (this.remaining === 0) this.end();
  }

  private end(err?: Error): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.timer);
    this.stopReconnect?.();
    this.stopClose?.();
    for (const id of this.ids) this.p.unlisten(id);
    const cleanup = this.cleanup(err !== undefined);
    if (err) {
      // The error is the news; the cleanup finishes in the background (or expires with the keys).
      this.p.track(cleanup);
      this.reject(err);
    } else {
      // The results are all in: a cleanup Redis never answers leaves keys that expire, not a hang.
      void within(cleanup, 5000).then(() => this.resolve());
    }
  }

  private async cleanup(failed: boolean): Promise<void> {
    await Promise.all(this.deletes);
    const redis = this.p.redis;
    if (failed) {
      await Promise.all(this.ids.map((id, i) => (this.settled[i] ? undefined : this.p.queue.remove(id).catch(() => {}))));
      const keys: string[] = [];
      this.jobs.forEach((_, i) => {
        keys.push(this.keys.output(this.run, i));
        const input = this.inputKey(i);
        if (input) keys.push(input);
      });
      for (let k = 0; k < keys.length; k += 1000) await redis.del(...keys.slice(k, k + 1000));
    }
    await redis.del(this.keys.run(this.run));
    await Promise.all(this.holds.map((hash) => this.p.blobs.release(hash, this.run)));
  }
}

/**
 * Queues `jobs` as run `run` (holding the blobs `holds`, already stored, until it ends) and
 * resolves once every job's output has been handed to `hooks.output` and the run's keys are gone.
 */
export async function runJobs(p: QueueProducer, run: string, jobs: RunJob[], hooks: RunHooks, holds: string[]): Promise<void> {
  if (jobs.length === 0) {
    await Promise.all(holds.map((hash) => p.blobs.release(hash, run)));
    return;
  }
  const r = new JobRun(p, run, jobs, hooks, holds);
  await r.start();
  return r.finished;
}
