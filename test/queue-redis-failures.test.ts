// What a run does when Redis goes away (SPEC §10, issue 13): a clear error within the producer's
// timeout, never a wait without end; a Redis that restarts empty (persistence off) fails the run
// at once as lost; the workers and an idle queue reconnect and serve the next run. A redis-server
// of this suite's own, since it is stopped and restarted.
import Redis from 'ioredis';
import { InferenceQueue, LSTM, QueueConnectionError, Tensor } from '../src';
import { Rng } from '../src/random';
import { describeWithRedis, RedisServer, uniqueQueue } from './helpers/redis';
import { WorkerProcess } from './helpers/workers';

function sequences(n: number, I: number, T: number, seed: number): Tensor[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const x = new Float32Array(T * I);
    rng.fillUniform(x, -1, 1);
    return new Tensor(x, [T, I]);
  });
}

describeWithRedis(
  'InferenceQueue when Redis goes away',
  () => {
    let server: RedisServer;
    let worker: WorkerProcess;
    let q: InferenceQueue;
    const queue = uniqueQueue('down');
    const layer = new LSTM({ inputSize: 16, hiddenSize: 16, seed: 1 });
    const inputs = sequences(40, 16, 10, 2);

    beforeAll(async () => {
      server = await RedisServer.start();
      worker = await WorkerProcess.start(server.url, queue);
      q = new InferenceQueue({ connection: server.url, name: queue, redisTimeoutMs: 2000 });
    });
    afterAll(async () => {
      await q?.close();
      await worker?.stop();
      await server?.stop();
    });

    /** A run the frozen worker cannot finish: its job is taken (started) but never completed.
     * (Wrapped: an async function returning the promise itself would wait for it.) */
    async function stuckRun(): Promise<{ run: Promise<unknown> }> {
      for (let attempt = 1; ; attempt++) {
        const run = q.run(layer, inputs, { shardSize: 40 });
        run.catch(() => {});
        await worker.waitForNext(/ start forward \S+$/, 20_000);
        worker.signal('SIGSTOP');
        // The shard's forward takes well under a millisecond: the stop can land after the worker
        // has sent its results (seen in CI: the run then resolved). Such a run ends within a
        // second; a stuck one does not, and is the one to return.
        const settled = await Promise.race([
          run.then(() => true, () => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
        ]);
        if (!settled) return { run };
        worker.signal('SIGCONT');
        if (attempt === 5) throw new Error('the worker finished its shard before SIGSTOP reached it, 5 times');
      }
    }

    test('a run whose Redis stops rejects with QueueConnectionError within redisTimeoutMs', async () => {
      expect((await q.run(layer, inputs, { shardSize: 8 })).length).toBe(40);
      const { run } = await stuckRun();
      await server.stop();
      const stopped = Date.now();
      await expect(run).rejects.toThrow(QueueConnectionError);
      await expect(run).rejects.toThrow(/InferenceQueue: Redis at redis:\/\/127\.0\.0\.1:\d+ has been unreachable for \d+\.\d s/);
      expect(Date.now() - stopped).toBeLessThan(2000 + 3000);
      worker.signal('SIGCONT');
    }, 60_000);

    test('Redis back (empty): the worker reconnects and the same queue serves the next run', async () => {
      await server.start();
      await q.run(layer, inputs, { shardSize: 8 }).then((r) => expect(r).toHaveLength(40));
      expect(worker.errText()).toMatch(/unreachable .*retrying until it is back/);
      expect(worker.errText()).toMatch(/is back/);
    }, 60_000);

    test('a Redis that restarts empty during a run fails it as lost, at once', async () => {
      const { run } = await stuckRun();
      await server.stop();
      await server.start();
      const back = Date.now();
      await expect(run).rejects.toThrow(/Redis lost run [0-9a-f]+ \(its keys are gone/);
      expect(Date.now() - back).toBeLessThan(5000);
      // The frozen worker comes back to a run that is gone: it writes nothing and serves on.
      worker.signal('SIGCONT');
      const probe = new Redis(server.url);
      try {
        await expect(q.run(layer, inputs, { shardSize: 8 })).resolves.toHaveLength(40);
        expect((await probe.keys('cellscan:*')).length).toBe(0);
      } finally {
        probe.disconnect();
      }
    }, 60_000);

    test('a first run against a Redis that is not there rejects after redisTimeoutMs', async () => {
      const dead = new InferenceQueue({ connection: { host: '127.0.0.1', port: 1 }, redisTimeoutMs: 500 });
      const started = Date.now();
      try {
        await expect(dead.run(layer, inputs)).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 has been unreachable .* while connecting/);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await dead.close();
      }
    }, 30_000);
  },
  { ownServer: true },
);
