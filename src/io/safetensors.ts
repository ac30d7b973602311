// Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
//   [u64 little-endian N][N bytes of UTF-8 JSON header][data buffer]
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]}, the offsets
// relative to the start of the data buffer, plus an optional "__metadata__" object of strings.
// Loading widens or narrows every supported dtype to the two the library computes in
// (float32, int32); saving writes F32 and I32, and a checksum of each tensor (checksums.ts).

import { describe, rangeError, shapeText, shown, typeError } from '../errors';
import { numel, Tensor } from '../tensor';
import { asBytes } from './bytes';
import { CHECKSUMS_KEY, recordChecksums, verifyChecksums } from './checksums';

/**
 * The tensors of a file in header order (JavaScript key order, so integer-like names come first),
 * with the file's "__metadata__" ({} when it has none), less the checksums loading verified.
 */
export class SafetensorsMap extends Map<string, Tensor> {
  readonly metadata: Record<string, string>;

  constructor(entries: Iterable<readonly [string, Tensor]> = [], metadata: Record<string, string> = {}) {
    super(entries);
    this.metadata = metadata;
  }
}

const METADATA_KEY = '__metadata__';
const ITEM_SIZE = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 } as const;
type FileDType = keyof typeof ITEM_SIZE;
const SUPPORTED = Object.keys(ITEM_SIZE).join(', ');

// Typed arrays use the host byte order; the file is little-endian. On a little-endian host F32/I32
// data can be copied as bytes and viewed; elsewhere every element goes through a DataView.
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A fresh, 0-offset (hence aligned) copy of bytes[begin, end). Never aliases `bytes`. */
function copyRange(bytes: Uint8Array, begin: number, end: number): Uint8Array<ArrayBuffer> {
  // Not bytes.slice(): on a Node Buffer, slice() returns a view that shares memory.
  const out = new Uint8Array(end - begin);
  out.set(bytes.subarray(begin, end));
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Bits of the float32 equal to an IEEE half; exact for every input, NaN payloads included. */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // Inf, NaN
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 -> 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal half (mant·2^-24): normalise it, float32 has the range to hold it as a normal.
  let e = 113; // float32 biased exponent of 2^-14, the scale of the leading bit position 10
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Converts the `count` elements at view[begin..] from `dtype` into a fresh float32/int32 array. */
function decode(name: string, dtype: FileDType, view: DataView, bytes: Uint8Array, begin: number, count: number) {
  const end = begin + count * ITEM_SIZE[dtype];
  switch (dtype) {
    case 'F32':
    case 'I32': {
      const Ctor = dtype === 'F32' ? Float32Array : Int32Array;
      if (LITTLE_ENDIAN_HOST) return new Ctor(copyRange(bytes, begin, end).buffer);
      const out = new Ctor(count);
      for (let i = 0; i < count; i++) {
        out[i] = dtype === 'F32' ? view.getFloat32(begin + 4 * i, true) : view.getInt32(begin + 4 * i, true);
      }
      return out;
    }
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(count);
      // Write bit patterns, not values, so NaN payloads survive.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) {
        const h = view.getUint16(begin + 2 * i, true);
        bits[i] = dtype === 'F16' ? halfToFloatBits(h) : h << 16; // BF16: the top half of a float32
      }
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count); // the store rounds to nearest float32
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(begin + 8 * i, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const at = begin + 8 * i;
        const lo = view.getUint32(at, true);
        const hi = view.getInt32(at + 4, true);
        // In int32 range exactly when the high word is the sign extension of the low word's bit 31.
        if (hi !== (lo & 0x80000000 ? -1 : 0)) {
          throw rangeError(
            'loadSafetensors',
            `tensor ${JSON.stringify(name)} (I64) element ${i}`,
            'in the int32 range [-2147483648, 2147483647]',
            view.getBigInt64(at, true),
          );
        }
        out[i] = lo | 0;
      }
      return out;
    }
  }
}

/**
 * Two tensors may not share bytes: the format lays them side by side, and a file whose ranges
 * overlap was made by hand to alias them (the reference implementation refuses it too).
 */
function checkNoOverlap(where: string, ranges: { arg: string; begin: number; end: number }[]): void {
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const [prev, r] = [sorted[i - 1], sorted[i]];
    if (r.begin < prev.end) {
      throw rangeError(where, `${r.arg}.data_offsets`, `a range that no other tensor's overlaps`,
        shown(`[${r.begin}, ${r.end}], which overlaps ${prev.arg}.data_offsets [${prev.begin}, ${prev.end}]`));
    }
  }
}

/**
 * Parses a safetensors file: a Uint8Array (a Node Buffer among them), an ArrayBuffer or
 * SharedArrayBuffer, or any other view (DataView, typed array), read as the bytes it spans.
 * All data is copied: the result never aliases `bytes`. A file that
 * records checksums (every file saveSafetensors writes) is refused when a tensor fails its own.
 */
export function loadSafetensors(bytes: Uint8Array | ArrayBufferLike | ArrayBufferView): SafetensorsMap {
  const view = asBytes('loadSafetensors', 'bytes', bytes);
  return parse(view, view === bytes ? 'bytes.length' : 'bytes.byteLength');
}

/** loadSafetensors on the file's bytes; `lengthArg` names their length as the caller gave it. */
function parse(bytes: Uint8Array, lengthArg: string): SafetensorsMap {
  const where = 'loadSafetensors';
  if (bytes.length < 8) {
    throw rangeError(where, lengthArg, 'at least 8 (the u64 header length)', bytes.length);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // The header length is a u64: compare it as a BigInt so values ≥ 2^53 are not rounded.
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw rangeError(where, 'header length', `at most ${bytes.length - 8} (the bytes after it)`, headerLength);
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(copyRange(bytes, 8, dataStart));
  } catch {
    throw new TypeError(`${where}: header must be UTF-8 JSON, got bytes that are not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new TypeError(`${where}: header must be UTF-8 JSON, got ${describe(shown)} (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) throw typeError(where, 'header', 'a JSON object', header);

  let metadata: Record<string, string> = {};
  const tensors: [string, Tensor][] = [];
  const stored = new Map<string, Uint8Array>();
  const ranges: { arg: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    const arg = `header[${JSON.stringify(name)}]`;
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) throw typeError(where, arg, 'an object of strings', entry);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw typeError(where, `${arg}[${JSON.stringify(k)}]`, 'a string', v);
      }
      // fromEntries defines own properties, so a "__proto__" key cannot touch the prototype.
      metadata = Object.fromEntries(Object.entries(entry)) as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry)) {
      throw typeError(where, arg, 'an object with dtype, shape and data_offsets', entry);
    }
    const { dtype, shape, data_offsets: offsets } = entry;

    if (typeof dtype !== 'string') throw typeError(where, `${arg}.dtype`, `a string, one of ${SUPPORTED}`, dtype);
    if (!Object.hasOwn(ITEM_SIZE, dtype)) throw rangeError(where, `${arg}.dtype`, `one of ${SUPPORTED}`, dtype);
    const itemSize = ITEM_SIZE[dtype as FileDType];

    if (!Array.isArray(shape)) throw typeError(where, `${arg}.shape`, 'an array of non-negative integers', shape);
    shape.forEach((d: unknown, i) => {
      if (!Number.isInteger(d) || (d as number) < 0) {
        throw rangeError(where, `${arg}.shape[${i}]`, 'a non-negative integer', d);
      }
    });

    if (!Array.isArray(offsets) || offsets.length !== 2) {
      throw typeError(where, `${arg}.data_offsets`, 'an array [begin, end]', offsets);
    }
    offsets.forEach((o: unknown, i) => {
      if (!Number.isInteger(o) || (o as number) < 0) {
        throw rangeError(where, `${arg}.data_offsets[${i}]`, 'a non-negative integer', o);
      }
    });
    // Integers beyond 2^53 may have been rounded by JSON.parse, but they fail the bounds check anyway.
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw rangeError(where, `${arg}.data_offsets`, '[begin, end] with begin ≤ end', offsets);
    if (end > dataLength) {
      throw rangeError(where, `${arg}.data_offsets[1]`, `at most ${dataLength} (the data buffer length)`, end);
    }

    // Exact element count (BigInt: a huge shape must not round to a size that happens to match).
    const count = shape.reduce((n: bigint, d: number) => n * BigInt(d), 1n);
    const expected = count * BigInt(itemSize);
    if (expected !== BigInt(end - begin)) {
      throw new RangeError(
        `${where}: ${arg}.data_offsets must span ${expected} bytes (${count} elements of shape ` +
          `${shapeText(shape)} × ${itemSize} bytes for ${dtype}), got ${end - begin} bytes (${shapeText(offsets)})`,
      );
    }
    // Only a shape with a 0 among dimensions whose product overflows a double gets here unequal.
    if (numel(shape) !== Number(count)) {
      throw rangeError(where, `${arg}.shape`, 'a shape whose size is representable', shape);
    }

    if (begin < end) ranges.push({ arg, begin, end });

    const data = decode(name, dtype as FileDType, view, bytes, dataStart + begin, Number(count));
    tensors.push([name, new Tensor(data, shape)]);
    stored.set(name, bytes.subarray(dataStart + begin, dataStart + end));
  }
  checkNoOverlap(where, ranges);
  if (Object.hasOwn(metadata, CHECKSUMS_KEY)) {
    verifyChecksums(where, metadata[CHECKSUMS_KEY], stored);
    delete metadata[CHECKSUMS_KEY];
  }
  return new SafetensorsMap(tensors, metadata);
}

/**
 * Serialises tensors (float32 as F32, int32 as I32), laid out contiguously in insertion order, with
 * `metadata` and each tensor's checksum as "__metadata__" (the checksums' key is refused in
 * `metadata`: writing over a caller's value would lose it). The header is space-padded so the data
 * starts 8-byte aligned.
 */
export function saveSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const where = 'saveSafetensors';
  let entries: [unknown, unknown][];
  if (tensors instanceof Map) entries = [...tensors];
  else if (isPlainObject(tensors)) entries = Object.entries(tensors);
  else throw typeError(where, 'tensors', 'a Map or an object of Tensors', tensors);

  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw typeError(where, 'metadata', 'an object of strings', metadata);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw typeError(where, `metadata[${JSON.stringify(k)}]`, 'a string', v);
      if (k === CHECKSUMS_KEY) {
        throw rangeError(where, `metadata[${JSON.stringify(k)}]`, "absent (the key holds the tensors' checksums)", v);
      }
      Object.defineProperty(meta, k, { value: v, enumerable: true, writable: true });
    }
  }
  header[METADATA_KEY] = meta;

  let size = 0;
  const list: Tensor[] = [];
  const names: string[] = [];
  for (const [name, t] of entries) {
    if (typeof name !== 'string') throw typeError(where, 'tensor name', 'a string', name);
    const arg = `tensors[${JSON.stringify(name)}]`;
    if (name === METADATA_KEY) throw rangeError(where, 'tensor name', `not ${JSON.stringify(METADATA_KEY)}`, name);
    if (!(t instanceof Tensor)) throw typeError(where, arg, 'a Tensor', t);
    const bytes = t.data.byteLength;
    // defineProperty, not assignment, so a tensor named "__proto__" becomes an own key.
    Object.defineProperty(header, name, {
      value: { dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: [...t.shape], data_offsets: [size, size + bytes] },
      enumerable: true,
    });
    list.push(t);
    names.push(name);
    size += bytes;
  }

  meta[CHECKSUMS_KEY] = recordChecksums(list.map((t, i) => [names[i], bytesOf(t)] as const));
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20); // trailing spaces are valid JSON whitespace
    p.set(json);
    json = p;
  }

  const out = new Uint8Array(8 + json.length + size);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of list) {
    out.set(bytesOf(t), at);
    at += t.data.byteLength;
  }
  return out;
}

/** A tensor's data as the file stores it, little-endian (a view of it on a little-endian host). */
function bytesOf(t: Tensor): Uint8Array {
  const d = t.data;
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(d.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) {
    if (d instanceof Float32Array) view.setFloat32(4 * i, d[i], true);
    else view.setInt32(4 * i, d[i], true);
  }
  return out;
}
