// A worker's result is written only while its run still wants it. A shard redone after its run
// ended (the producer gave up, or took the first copy and removed the input) would otherwise
// leave a result nobody reads; checking and writing in one script leaves no gap between the two.
import type Redis from 'ioredis';
import { KEY_TTL_MS } from './settings';

// KEYS: guard, output. ARGV: bytes, ttl (ms).
const WRITE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1`;

/** True when written; false when the guard was gone. */
export async function writeGuarded(redis: Redis, guard: string, output: string, bytes: Buffer): Promise<boolean> {
  return (await redis.eval(WRITE, 2, guard, output, bytes, KEY_TTL_MS)) === 1;
}
