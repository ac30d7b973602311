// A worker's result stays in Redis only while its run still wants it. A shard redone after its run
// ended (the producer gave up, or took the first copy and removed the input) would otherwise leave
// a result nobody reads. Written first, then the guard checked, and the result taken back when the
// guard is gone: whatever order the producer's removals and these steps interleave in, nothing is
// left behind, and a result the producer may still read is never removed under it (its guard is
// still there). Not one Lua script doing both: Redis copies a script's megabyte argument twice
// over, which cost it four times the plain SET's time.
import type Redis from 'ioredis';
import { setPieces } from './pieces-set';
import { KEY_TTL_MS } from './settings';

/** True when written (and still wanted); false when the guard was gone. */
export async function writeGuarded(redis: Redis, guard: string, output: string, bytes: Buffer): Promise<boolean> {
  if ((await redis.exists(guard)) === 0) return false;
  await setPieces(redis, output, [bytes], KEY_TTL_MS);
  if ((await redis.exists(guard)) === 1) return true;
  await redis.del(output);
  return false;
}
