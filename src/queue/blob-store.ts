// Bytes stored once under their content hash and removed when the last run holding them lets go.
// Each hold is a lease that lapses unless its run renews it, so a producer that dies mid-run
// keeps its blobs alive for one TTL at most, never for good.
import type Redis from 'ioredis';
import type { QueueKeys } from './keys';
import { setPieces } from './pieces-set';

// KEYS: blob, holders. ARGV: holder, lease end (ms), now (ms), ttl (ms). Returns 1 when the blob is there.
const HOLD = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
return 0`;

// KEYS: blob, holders. ARGV: holder, now (ms). Deletes the blob when nobody holds it any more.
const RELEASE = `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0`;

export class BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
  ) {}

  /** Holds `hash` for `holder` (uploading the bytes unless another run already did) for `ttlMs`; again to renew. */
  async hold(hash: string, holder: string, ttlMs: number, bytes?: Uint8Array): Promise<void> {
    const now = Date.now();
    const there = await this.redis.eval(HOLD, 2, this.keys.blob(hash), this.keys.holders(hash), holder, now + ttlMs, now, ttlMs);
    if (there === 1 || bytes === undefined) return;
    // Two runs may both find it missing and both upload: the same bytes under the same name.
    await setPieces(this.redis, this.keys.blob(hash), [bytes], ttlMs);
  }

  async release(hash: string, holder: string): Promise<void> {
    await this.redis.eval(RELEASE, 2, this.keys.blob(hash), this.keys.holders(hash), holder, Date.now());
  }

  get(hash: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.keys.blob(hash));
  }
}
