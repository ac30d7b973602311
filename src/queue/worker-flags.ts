// `cellscan worker`'s flags, checked before anything loads BullMQ or connects.
import { parseArgs } from 'util';
import { backendFlag, positiveFlag, threadsFlag } from '../cli/flags';
import { queueFlag, queueOptions, redisFlag } from './command-line';
import type { RedisTarget } from './connection';
import { DEFAULT_QUEUE } from './keys';

export interface WorkerFlags {
  target: RedisTarget;
  queue: string;
  concurrency: number;
  verbose: boolean;
  threads?: number;
  backend?: string;
}

const options = {
  ...queueOptions,
  concurrency: { type: 'string' },
  verbose: { type: 'boolean' },
  backend: { type: 'string' },
  threads: { type: 'string' },
} as const;

export function parseWorkerFlags(args: string[]): WorkerFlags {
  const { values } = parseArgs({ args, options });
  return {
    target: redisFlag('worker', values.redis),
    queue: queueFlag(values.queue, DEFAULT_QUEUE),
    concurrency: positiveFlag(values, 'concurrency', 1),
    verbose: values.verbose === true,
    threads: threadsFlag(values),
    backend: backendFlag(values),
  };
}
