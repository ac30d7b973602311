// `cellscan worker --redis URL`: takes jobs from the queue until SIGTERM, on any machine that
// reaches the Redis. A shard is one batched forward; a sweep's configuration is one training run.
// SIGTERM (or Ctrl-C) lets the jobs in hand finish and exits 0; a second one exits at once.
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { currentBackend, setNumThreads, useBackend } from '../backend/select';
import { BlobStore } from './blob-store';
import { bullConnection, openRedis } from './clients';
import { ComputeSlots } from './compute-slots';
import { shownUrl } from './connection';
import { runForwardShard } from './forward-shard';
import { FORWARD, type ForwardJob, TRAIN, type TrainJob } from './jobs';
import { QueueKeys } from './keys';
import { ResultBuffers } from './result-buffers';
import { ModelCache } from './model-cache';
import { LOCK_MS, MAX_STALLED, STALLED_INTERVAL_MS } from './settings';
import { runTrainJob } from './train-job';
import type { WorkerFlags } from './worker-flags';

const CONNECTION_TROUBLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|connect ETIMEDOUT/i;

/** Serves until a signal; resolves with the exit status. */
export async function serveWorker(flags: WorkerFlags): Promise<number> {
  const { target, queue, concurrency, verbose } = flags;
  if (flags.backend !== undefined) useBackend(flags.backend as 'auto');
  if (flags.threads !== undefined) setNumThreads(flags.threads);
  const where = shownUrl(target);
  const say = (line: string) => console.log(`cellscan worker: ${line}`);
  const warn = (line: string) => console.error(`cellscan worker: ${line}`);

  const redis = openRedis(target, `cellscan-worker:${queue}`);
  const blobs = new BlobStore(redis, new QueueKeys(queue));
  const models = new ModelCache(blobs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-worker-'));
  const train = { redis, blobs, dir, threads: flags.threads === undefined ? undefined : String(flags.threads), backend: flags.backend };

  // One line when Redis goes away and one when it is back, not one per retry.
  let trouble: string | undefined;
  const lost = (e: Error) => {
    if (trouble !== undefined) return;
    trouble = e.message || String(e);
    warn(`Redis at ${where} is unreachable (${trouble}); retrying until it is back`);
  };
  redis.on('error', lost);
  // BullMQ's own complaints (a lock it could not renew, a job it could not move) are worth a line
  // each, unless they only repeat that the connection is down.
  let lastComplaint = '';
  const complaint = (e: Error) => {
    const message = e.message || String(e);
    if (CONNECTION_TROUBLE.test(message)) return lost(e);
    if (message === lastComplaint) return;
    lastComplaint = message;
    warn(message);
  };
  redis.on('ready', () => {
    if (trouble === undefined) return;
    trouble = undefined;
    warn(`Redis at ${where} is back`);
  });
  redis.connect().catch(() => {});

  const slots = new ComputeSlots(concurrency);
  const shards = { redis, models, slots, buffers: new ResultBuffers(concurrency + 1) };
  const processJob = async (job: Job): Promise<unknown> => {
    const started = performance.now();
    if (verbose) say(`start ${job.name} ${job.id}`);
    const ms = () => `${(performance.now() - started).toFixed(0)} ms`;
    if (job.name === FORWARD) {
      const r = await runForwardShard(shards, job.data as ForwardJob);
      if (verbose) {
        say(r.written ? `done forward ${job.id}: ${r.sequences} sequences, T <= ${r.longest}, ${ms()}` : `skipped forward ${job.id}: no longer wanted`);
      }
      return r;
    }
    if (job.name === TRAIN) {
      const r = await slots.run(() => runTrainJob(train, job as Job<TrainJob>));
      if (verbose) say(r.written ? `done train ${job.id} (${(job.data as TrainJob).label}): ${ms()}` : `skipped train ${job.id}: no longer wanted`);
      return r;
    }
    throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)} (a producer newer than this worker?)`);
  };

  const worker = new Worker(queue, processJob, {
    connection: bullConnection(target),
    concurrency: concurrency + 1,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED,
  });
  worker.on('error', complaint);
  worker.on('failed', (job, err) => warn(`${job?.name ?? 'a'} job ${job?.id ?? '?'} failed: ${err.message}`));

  let stopping = false;
  const exitCode = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) {
        warn(`${signal} again: exiting without finishing`);
        process.exit(1);
      }
      stopping = true;
      say(`${signal}: finishing the jobs in hand, then exiting`);
      worker
        .close()
        .then(
          () => 0,
          (e: Error) => {
            warn(`closing: ${e.message}`);
            return 1;
          },
        )
        .then(async (code) => {
          if ((await redis.quit().catch(() => undefined)) === undefined) redis.disconnect();
          fs.rmSync(dir, { recursive: true, force: true });
          say('stopped');
          resolve(code);
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  await Promise.race([worker.waitUntilReady(), exitCode]);
  if (!stopping) say(`serving queue ${queue} at ${where} (backend ${currentBackend()}, concurrency ${concurrency}, pid ${process.pid})`);
  return exitCode;
}
