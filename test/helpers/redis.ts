// Redis for the queue's tests. CI (.ci/run) starts one and says so with CELLSCAN_REDIS_URL and
// CELLSCAN_REQUIRE_REDIS=1: then every test that needs Redis runs, and fails if it cannot. Run
// locally without them, a suite starts a redis-server of its own when the binary is installed,
// and is skipped (with the reason printed) when it is not.
import { RedisServer, redisServerBinary } from '../../bench/redis-server';

// The server itself is bench/redis-server.ts's, which the queue benchmark starts too.
export { freePort, RedisServer, redisServerBinary } from '../../bench/redis-server';

export const required = process.env.CELLSCAN_REQUIRE_REDIS === '1';

/** Why the Redis suites cannot run here, or undefined when they can. */
export function whyNoRedis(ownServer = false): string | undefined {
  if (!ownServer && process.env.CELLSCAN_REDIS_URL) return undefined;
  if (redisServerBinary()) return undefined;
  return 'no redis-server binary (apt-get install redis-server), and no CELLSCAN_REDIS_URL';
}

/**
 * `describe` when Redis can be had, else `describe.skip` with the reason printed; under
 * CELLSCAN_REQUIRE_REDIS=1 a missing Redis is a failing test instead.
 */
export function describeWithRedis(name: string, fn: () => void, o: { ownServer?: boolean } = {}): void {
  const why = whyNoRedis(o.ownServer);
  if (why === undefined) {
    describe(name, fn);
  } else if (required) {
    describe(name, () => test('Redis is available (CELLSCAN_REQUIRE_REDIS=1)', () => {
      throw new Error(`CI asked for Redis, but ${why}`);
    }));
  } else {
    // eslint-disable-next-line no-console
    console.warn(`skipped "${name}": ${why}`);
    describe.skip(name, fn);
  }
}

/** The URL the shared suites use: CI's Redis, or a server started for this file (stopped by `release`). */
export async function suiteRedis(): Promise<{ url: string; release(): Promise<void> }> {
  const given = process.env.CELLSCAN_REDIS_URL;
  if (given) return { url: given.replace(/\/$/, ''), release: async () => {} };
  const s = await RedisServer.start();
  return { url: s.url, release: () => s.stop() };
}

/** A queue name no other test (or earlier run against the same Redis) has used. */
export function uniqueQueue(tag: string): string {
  return `test-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
