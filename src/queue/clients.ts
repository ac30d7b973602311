// The clients cellscan opens to Redis: one ioredis client of its own for the binary keys, and
// the options BullMQ opens its own with. (Apart from connection.ts: loading ioredis and BullMQ
// takes a good part of a second, which only code that talks to Redis should pay.)
import type { RedisOptions } from 'bullmq';
import Redis from 'ioredis';
import type { RedisTarget } from './connection';
import { MAX_RECONNECT_DELAY_MS } from './settings';

/**
 * Every client retries soon and often: a Redis that comes back is seen within a second, and the
 * callers bound how long they wait for it, not the client.
 */
function retryStrategy(times: number): number {
  return Math.min(100 * times, MAX_RECONNECT_DELAY_MS);
}

/** BullMQ's connection option: its own clients, from the URL, with the same reconnection policy. */
export function bullConnection(t: RedisTarget): RedisOptions {
  return { url: t.url, retryStrategy, maxRetriesPerRequest: null };
}

/**
 * cellscan's own client. Commands wait through a reconnection (maxRetriesPerRequest null) rather
 * than fail on the first dropped packet; whoever waits on them has a deadline of its own.
 */
export function openRedis(t: RedisTarget, name: string): Redis {
  const redis = new Redis(t.url, { retryStrategy, maxRetriesPerRequest: null, connectionName: name, lazyConnect: true });
  // An 'error' with no listener would throw; the owners watch 'close' and 'ready' instead.
  redis.on('error', () => {});
  return redis;
}
