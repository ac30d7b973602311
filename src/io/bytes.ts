// What byte-reading entry points accept: whatever holds the bytes in Node or the web platform.
// Buffers (fs.readFileSync), ArrayBuffers (fetch's arrayBuffer(), a worker's transfer) and views of
// them carry the same bytes; a caller should not have to rewrap one as a Uint8Array first.
import { types } from 'util';
import { typeError } from '../errors';

/**
 * The bytes `value` spans, as a Uint8Array over the same memory (no copy): `value` itself when it
 * is one. Checked by internal slot (util.types), not instanceof, so buffers made in another realm
 * (a vm context, jest's sandbox) pass too.
 */
export function asBytes(where: string, arg: string, value: unknown): Uint8Array {
  if (types.isUint8Array(value)) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (types.isAnyArrayBuffer(value)) return new Uint8Array(value);
  throw typeError(where, arg, 'a Uint8Array, Buffer, ArrayBuffer or other ArrayBufferView', value);
}
