// The producer's side of a queue, shared by InferenceQueue and `cellscan sweep`: one client of its
// own for the binary keys, BullMQ's Queue to add jobs and QueueEvents to hear them finish, and a
// watch on the connection so that no run waits on a Redis that has gone away for longer than
// `redisTimeoutMs`.
import { Queue, QueueEvents } from 'bullmq';
import type Redis from 'ioredis';
import { BlobStore } from './blob-store';
import { bullConnection, openRedis } from './clients';
import { type RedisTarget, shownUrl } from './connection';
import { QueueConnectionError } from './errors';
import { QueueKeys } from './keys';
import { ATTEMPTS, EVENTS_KEPT, FAILED_KEPT, RETRY_DELAY_MS } from './settings';

/** What a run hears about one of its jobs. */
export interface JobListener {
  completed(returnvalue: unknown): void;
  failed(reason: string): void;
  progress(data: unknown): void;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `p`, or undefined once `ms` have passed (the caller moves on; `p`'s failure is swallowed). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  p.catch(() => {});
  return Promise.race([p, delay(ms).then(() => undefined)]);
}

export class QueueProducer {
  readonly keys: QueueKeys;
  readonly redis: Redis;
  readonly blobs: BlobStore;
  readonly where: string;
  private queueObj?: Queue;
  private events?: QueueEvents;
  private readonly listeners = new Map<string, JobListener>();
  private readonly reconnectHooks = new Set<() => void>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly aborts = new Set<(e: Error) => void>();
  private starting?: Promise<void>;
  private closing?: Promise<void>;
  private downSince?: number;
  private lastError = 'no answer';

  constructor(
    readonly target: RedisTarget,
    queue: string,
    readonly redisTimeoutMs: number,
    where: string,
  ) {
    this.where = where;
    this.keys = new QueueKeys(queue);
    this.redis = openRedis(target, `cellscan-producer:${queue}`);
    this.blobs = new BlobStore(this.redis, this.keys);
    this.redis.on('error', (e: Error) => (this.lastError = e.message || String(e)));
    this.redis.on('close', () => (this.downSince ??= Date.now()));
    this.redis.on('ready', () => {
      const wasDown = this.downSince !== undefined;
      this.downSince = undefined;
      if (wasDown) for (const hook of this.reconnectHooks) hook();
    });
  }

  get queue(): Queue {
    if (!this.queueObj) throw new Error(`${this.where}: the queue is not started`);
    return this.queueObj;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Connects (once); rejects when Redis stays unreachable for redisTimeoutMs, and the next call tries again. */
  start(): Promise<void> {
    if (!this.starting) {
      const starting = this.connect();
      this.starting = starting;
      starting.catch(() => {
        if (this.starting === starting) this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async connect(): Promise<void> {
    if (this.redis.status === 'wait') {
      this.downSince ??= Date.now();
      this.redis.connect().catch(() => {});
    }
    await this.whileReachable(this.waitReady(), 'connecting');
    if (!this.queueObj) this.openQueue((await this.whileReachable(this.lastEventId(), 'connecting')));
    await this.whileReachable(Promise.all([this.queueObj!.waitUntilReady(), this.events!.waitUntilReady()]), 'connecting');
  }

  /**
   * Where the event stream stands now: QueueEvents reads on from there, not from '$' once it gets
   * round to it, so a job that finishes in between is heard of by its event, not only by a poll.
   */
  private async lastEventId(): Promise<string> {
    const last = (await this.redis.xrevrange(`bull:${this.keys.queue}:events`, '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last.length > 0 ? last[0][0] : '0-0';
  }

  private openQueue(lastEventId: string): void {
    const name = this.keys.queue;
    const connection = bullConnection(this.target);
    this.queueObj = new Queue(name, {
      connection,
      streams: { events: { maxLen: EVENTS_KEPT } },
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: FAILED_KEPT,
        attempts: ATTEMPTS,
        backoff: { type: 'fixed', delay: RETRY_DELAY_MS },
      },
    });
    this.queueObj.on('error', () => {});
    const events = new QueueEvents(name, { connection, lastEventId });
    this.events = events;
    events.on('error', () => {});
    events.on('completed', ({ jobId, returnvalue }) => this.listeners.get(jobId)?.completed(returnvalue));
    events.on('failed', ({ jobId, failedReason }) => this.listeners.get(jobId)?.failed(failedReason));
    events.on('progress', ({ jobId, data }) => this.listeners.get(jobId)?.progress(data));
  }

  private waitReady(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  /**
   * How long Redis has been unreachable as seen by work begun at `since` (0 when it answers): an
   * operation started after a long outage still gets its full timeout for the reconnection.
   */
  downFor(since = 0): number {
    return this.downSince === undefined ? 0 : Date.now() - Math.max(this.downSince, since);
  }

  unreachable(what: string, since = 0): QueueConnectionError {
    const s = (this.downFor(since) / 1000).toFixed(1);
    return new QueueConnectionError(`${this.where}: Redis at ${shownUrl(this.target)} has been unreachable for ${s} s while ${what} (${this.lastError})`);
  }

  /** `p`, or a QueueConnectionError once Redis has been unreachable for redisTimeoutMs. */
  async whileReachable<T>(p: Promise<T>, what: string): Promise<T> {
    p.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const since = Date.now();
    const watchdog = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        if (this.closed) reject(new QueueConnectionError(`${this.where}: closed while ${what}`));
        else if (this.downFor(since) > this.redisTimeoutMs) reject(this.unreachable(what, since));
      }, 100);
    });
    try {
      return await Promise.race([p, watchdog]);
    } finally {
      clearInterval(timer);
    }
  }

  listen(jobId: string, l: JobListener): void {
    this.listeners.set(jobId, l);
  }

  unlisten(jobId: string): void {
    this.listeners.delete(jobId);
  }

  /** `hook` runs whenever the client is ready again after a drop; returns the unsubscriber. */
  onReconnect(hook: () => void): () => void {
    this.reconnectHooks.add(hook);
    return () => this.reconnectHooks.delete(hook);
  }

  /** `abort` runs when the producer closes while its run is open; returns the unsubscriber. */
  onClose(abort: (e: Error) => void): () => void {
    this.aborts.add(abort);
    return () => this.aborts.delete(abort);
  }

  /** Work that outlives a failed run (its cleanup); close() gives it a moment to finish. */
  track(p: Promise<unknown>): void {
    const held = p.catch(() => {}).finally(() => this.background.delete(held));
    this.background.add(held);
  }

  /** Closes every connection, waiting at most a few seconds for a Redis that does not answer. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const abort of [...this.aborts]) abort(new QueueConnectionError(`${this.where}: closed before the run finished`));
      await within(Promise.all(this.background), 2000);
      await within(Promise.all([this.queueObj?.close(), this.events?.close()]), 3000);
      // QUIT lets queued commands finish; disconnect() then also stops a client still retrying.
      if (this.redis.status === 'ready') await within(this.redis.quit(), 1000);
      this.redis.disconnect();
      // BullMQ's clients may still be retrying a dead Redis: cut them off.
      await within(Promise.all([this.queueObj?.disconnect(), this.events?.disconnect()]), 1000);
    })();
    return this.closing;
  }
}
