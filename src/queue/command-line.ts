// What `cellscan worker` and `cellscan sweep` share on the command line: the checks of their
// flags, and one `cellscan: ...` line for a failure (status 2 for the user's mistakes, 1 otherwise).
import { UsageError } from '../cli/usage-error';
import { type RedisTarget, readConnection } from './connection';
import { checkQueueName } from './keys';

/** The flags every queue command takes, checked by redisFlag and queueFlag below. */
export const queueOptions = {
  redis: { type: 'string' },
  queue: { type: 'string' },
} as const;

export async function runCommand(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (e) {
    const err = e as Error & { code?: string };
    const usage = err instanceof UsageError || err instanceof TypeError || err instanceof RangeError || err.code?.startsWith('ERR_PARSE_ARGS');
    console.error(`cellscan: ${err.message}`);
    return usage ? 2 : 1;
  }
}

export function redisFlag(command: string, v: string | undefined): RedisTarget {
  if (v === undefined) throw new UsageError(`${command} needs --redis URL (redis://host:port)`);
  try {
    return readConnection(command, v);
  } catch {
    throw new UsageError(`--redis must be a redis:// URL (redis://host:port[/db]), got ${JSON.stringify(v)}`);
  }
}

export function queueFlag(v: string | undefined, fallback: string): string {
  if (v === undefined) return fallback;
  try {
    return checkQueueName('--queue', v);
  } catch {
    throw new UsageError(`--queue must be 1-64 letters, digits, "-", "_" or ".", got ${JSON.stringify(v)}`);
  }
}

