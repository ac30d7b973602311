// Reading a request body under a byte limit, and telling JSON from raw float32 by Content-Type.
import type { IncomingMessage } from 'http';
import { HttpError } from './http-error';

export type BodyKind = 'json' | 'raw';

export const RAW_TYPE = 'application/octet-stream';

/** json for application/json or no Content-Type at all, raw for octet-stream; any other type is refused. */
export function bodyKind(req: IncomingMessage): BodyKind {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type === '') return 'json';
  if (type === RAW_TYPE) return 'raw';
  throw new HttpError(415, `Content-Type must be application/json or ${RAW_TYPE}, got ${JSON.stringify(type)}`);
}

/**
 * The whole body, refused with 413 as soon as it passes `limit` bytes (by Content-Length before
 * reading anything, or while it streams in for chunked bodies).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (got: string) => new HttpError(413, `request body must be at most ${limit} bytes, got ${got}`, { Connection: 'close' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(`Content-Length ${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        // Stop buffering: the rest is drained unread and the connection closed after the answer.
        req.resume();
        reject(tooLarge(`more than that`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** Little-endian float32 values from raw bytes (copied: a Buffer's offset need not be 4-aligned). */
export function float32FromBytes(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

/** Concatenated little-endian float32 bytes of several arrays (the raw answer). */
export function bytesFromFloat32(parts: Float32Array[]): Buffer {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(4 * total);
  let at = 0;
  for (const p of parts) {
    if (LITTLE_ENDIAN) out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    else for (let i = 0; i < p.length; i++) out.writeFloatLE(p[i], at + 4 * i);
    at += p.byteLength;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
