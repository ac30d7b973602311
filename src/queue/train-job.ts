// A sweep's configuration on a worker: `cellscan train` itself, run as a child process with the
// job's flags, so the sweep trains exactly as the command does (its flag checks, its loop, its
// checkpoints and log). A child, not a call: a training step is synchronous and would stall the
// worker's event loop past BullMQ's lock renewals, and the job would be taken away mid-run.
import { UnrecoverableError, type Job } from 'bullmq';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createInterface } from 'readline';
import type Redis from 'ioredis';
import type { BlobStore } from './blob-store';
import { writeGuarded } from './guarded-write';
import type { TrainJob, TrainOutput, TrainProgress } from './jobs';
import type { JobReturn } from './run';

export interface TrainContext {
  redis: Redis;
  blobs: BlobStore;
  /** A folder of the worker's own for texts and logs, removed when it exits. */
  dir: string;
  /** The worker's --threads and --backend, handed to each training child. */
  threads?: string;
  backend?: string;
}

export interface TrainReport extends JobReturn {
  seconds: number;
}

const CLI = path.join(__dirname, '..', 'cli.js');
const GUARD = path.join(__dirname, 'orphan-guard.js');
const STEP_LINE = /^step (\d+): train loss ([\d.]+|NaN|Infinity)(?:, valid loss ([\d.]+|NaN|Infinity))?/;

/** The text on the worker's disk, fetched once per content hash (the train command reads a file). */
async function textFile(ctx: TrainContext, hash: string): Promise<string> {
  const file = path.join(ctx.dir, `text-${hash}.txt`);
  if (fs.existsSync(file)) return file;
  const bytes = await ctx.blobs.get(hash);
  if (bytes === null) throw new UnrecoverableError(`text ${hash.slice(0, 12)} is not in Redis (its sweep ended, or Redis lost it)`);
  // Written aside and renamed, so a concurrent job never reads half a file.
  const part = `${file}.${process.pid}.${Date.now()}.part`;
  fs.writeFileSync(part, bytes);
  fs.renameSync(part, file);
  return file;
}

/** Runs the child to its end; resolves with its exit code and the line that says why it failed. */
function train(args: string[], onLine: (line: string) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; why: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', GUARD, CLI, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let err = '';
    createInterface({ input: child.stdout! }).on('line', onLine);
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8192)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = err.split('\n').filter((l) => l.trim() !== '');
      resolve({ code, signal, why: lines.find((l) => l.startsWith('cellscan:')) ?? lines[lines.length - 1] ?? '' });
    });
  });
}

export async function runTrainJob(ctx: TrainContext, job: Job<TrainJob>): Promise<TrainReport> {
  const d = job.data;
  for (const key of ['text', 'textName', 'checkpoint', 'guard', 'output'] as const) {
    if (typeof d[key] !== 'string') throw new UnrecoverableError(`a train job needs ${key} (a string), got ${JSON.stringify(d[key])}`);
  }
  if (!Array.isArray(d.flags) || !d.flags.every((f) => typeof f === 'string')) throw new UnrecoverableError('a train job needs flags (strings)');
  // Its sweep has ended (or lost its keys): training now would be for nobody.
  if ((await ctx.redis.exists(d.guard)) === 0) return { written: false, seconds: 0 };
  const text = await textFile(ctx, d.text);
  const log = path.join(ctx.dir, `log-${job.id}-${Date.now()}.json`);
  fs.mkdirSync(path.dirname(d.checkpoint), { recursive: true });
  // A job redone after its worker died starts over: the checkpoint it left is replaced, not refused.
  const args = ['--text', text, '--model', d.checkpoint, '--force', '--log', log, ...d.flags];
  if (ctx.threads !== undefined) args.push('--threads', ctx.threads);
  if (ctx.backend !== undefined) args.push('--backend', ctx.backend);
  const started = Date.now();
  const r = await train(args, (line) => {
    const m = STEP_LINE.exec(line);
    if (!m) return;
    const progress: TrainProgress = { step: Number(m[1]), trainLoss: Number(m[2]), validLoss: m[3] === undefined ? null : Number(m[3]) };
    job.updateProgress(progress as unknown as object).catch(() => {});
  });
  const seconds = (Date.now() - started) / 1000;
  try {
    // A signal is the machine's doing (another try may succeed); an exit status is the flags' (it will not).
    if (r.signal !== null) throw new Error(`cellscan train was stopped by ${r.signal}`);
    if (r.code !== 0) throw new UnrecoverableError(`cellscan train exited with status ${r.code}: ${r.why}`);
    const parsed = JSON.parse(fs.readFileSync(log, 'utf8')) as { text?: string };
    parsed.text = d.textName;
    const output: TrainOutput = { log: parsed, host: os.hostname(), checkpoint: d.checkpoint, seconds };
    const written = await writeGuarded(ctx.redis, d.guard, d.output, Buffer.from(JSON.stringify(output)));
    return { written, seconds };
  } finally {
    fs.rmSync(log, { force: true });
  }
}
