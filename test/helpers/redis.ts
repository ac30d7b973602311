// Redis for the queue's tests. CI (.ci/run) starts one and says so with CELLSCAN_REDIS_URL and
// CELLSCAN_REQUIRE_REDIS=1: then every test that needs Redis runs, and fails if it cannot. Run
// locally without them, a suite starts a redis-server of its own when the binary is installed,
// and is skipped (with the reason printed) when it is not.
import { type ChildProcess, spawn, spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import Redis from 'ioredis';

export const required = process.env.CELLSCAN_REQUIRE_REDIS === '1';

export function redisServerBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (found) return found;
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) {
    if (spawnSync(p, ['--version']).status === 0) return p;
  }
  return undefined;
}

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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of a test's own: loopback only, persistence off, stoppable and restartable on its port. */
export class RedisServer {
  private proc?: ChildProcess;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const s = new RedisServer(await freePort());
    await s.start();
    return s;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const bin = redisServerBinary();
    if (!bin) throw new Error('no redis-server binary');
    const proc = spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', path.resolve('/tmp')], {
      stdio: 'ignore',
    });
    this.proc = proc;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${proc.exitCode}`);
      const c = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => {});
      try {
        await c.connect();
        await c.ping();
        c.disconnect();
        return;
      } catch {
        c.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer in 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
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
