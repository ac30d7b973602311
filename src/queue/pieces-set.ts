// SET of a megabyte value given as pieces, which go to the socket as they are. ioredis builds a
// command with Buffer arguments by copying every argument into one new buffer, so a shard's bytes
// were copied once more on their way out (and the copy was garbage right after). Here the pieces
// are handed to the socket, which writes them in one writev (corked) straight from their own
// memory: a shard's inputs straight from the caller's tensors, a worker's results straight from
// the buffer it encoded them in. ioredis calls toWritable(socket) just before it writes the
// command's returned text to that socket (its own scripts override it the same way), so what is
// written here comes first, in order; a command sent again after a reconnection is written again.
import type { Socket } from 'net';
import { Command } from 'ioredis';
import type Redis from 'ioredis';

function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

class PiecesSet extends Command {
  constructor(
    private readonly key: string,
    private readonly pieces: readonly Uint8Array[],
    private readonly ttlMs: number,
  ) {
    super('set', [key, 'PX', String(ttlMs)], { replyEncoding: 'utf8' });
  }

  override toWritable(socket: object): string {
    const s = socket as Socket;
    let total = 0;
    for (const p of this.pieces) total += p.byteLength;
    s.cork();
    s.write(`*5\r\n$3\r\nset\r\n${bulk(this.key)}$${total}\r\n`);
    for (const p of this.pieces) if (p.byteLength > 0) s.write(p);
    // ioredis writes the returned tail; the uncork after it sends everything as one writev.
    process.nextTick(() => s.uncork());
    return `\r\n${bulk('PX')}${bulk(String(this.ttlMs))}`;
  }
}

/** SET key (the pieces, concatenated) PX ttlMs; the pieces must stay unchanged until it resolves. */
export function setPieces(redis: Redis, key: string, pieces: readonly Uint8Array[], ttlMs: number): Promise<unknown> {
  return redis.sendCommand(new PiecesSet(key, pieces, ttlMs)) as Promise<unknown>;
}
