// The Redis keys cellscan writes beside BullMQ's own (which live under "bull:<queue>:"). Job data
// holds only these names; the bytes they point at never go through JSON.
import { rangeError, typeError } from '../errors';

export const DEFAULT_QUEUE = 'cellscan';

/** A queue name as BullMQ takes it (no ':'), and short enough to read in a key. */
export function checkQueueName(where: string, v: unknown): string {
  if (typeof v !== 'string') throw typeError(where, 'name', 'a string of letters, digits, "-", "_" or "."', v);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw rangeError(where, 'name', '1-64 letters, digits, "-", "_" or "."', v);
  return v;
}

export class QueueKeys {
  private readonly prefix: string;

  constructor(readonly queue: string) {
    this.prefix = `cellscan:${queue}`;
  }

  /** Bytes stored once under their content hash: a model (config + weights) or a training text. */
  blob(hash: string): string {
    return `${this.prefix}:blob:${hash}`;
  }

  /** The runs holding a blob, each with the time its hold lapses unless renewed (a sorted set). */
  holders(hash: string): string {
    return `${this.prefix}:blob:${hash}:holders`;
  }

  /** Present while a run wants results: a worker writes none once it is gone. */
  run(run: string): string {
    return `${this.prefix}:run:${run}`;
  }

  input(run: string, job: number): string {
    return `${this.prefix}:run:${run}:in:${job}`;
  }

  output(run: string, job: number): string {
    return `${this.prefix}:run:${run}:out:${job}`;
  }

  /** BullMQ's id of a run's job: unique, so adding it twice never queues it twice (no ':' allowed). */
  jobId(run: string, job: number): string {
    return `${run}-${job}`;
  }
}
