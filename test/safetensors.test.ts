import * as fs from 'fs';
import * as path from 'path';
import { loadSafetensors, saveSafetensors, SafetensorsMap } from '../src/io/safetensors';
import { FIXTURES_DIR } from './helpers/fixtures';
import { Tensor } from '../src/tensor';

// ---- files built byte by byte, independently of saveSafetensors ----

/** Little-endian bytes of unsigned integers of `width` bytes each (bigint for 8-byte values). */
function le(width: 2 | 4 | 8, values: (number | bigint)[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    let x = BigInt.asUintN(width * 8, BigInt(v));
    for (let i = 0; i < width; i++) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  return out;
}

/** A safetensors file: u64 header length, header (an object to stringify, or raw text/bytes), data. */
function build(header: unknown, data: number[] = [], headerLength?: bigint): Uint8Array {
  const h =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  return Uint8Array.from([...le(8, [headerLength ?? BigInt(h.length)]), ...h, ...data]);
}

/** One-tensor file whose data is `data`. */
function one(dtype: string, shape: number[], data: number[], name = 'x'): Uint8Array {
  return build({ [name]: { dtype, shape, data_offsets: [0, data.length] } }, data);
}

const f32Bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The data buffer starts at 8 + header length. */
/** CRC-32 (IEEE, reflected, as zlib computes it) bit by bit, as 8 hex digits. */
function crc32Hex(bytes: Uint8Array): string {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

function headerOf(bytes: Uint8Array): { length: number; json: Record<string, any>; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  return { length, json: JSON.parse(text), text };
}

// ---- round trips ----

describe('saveSafetensors / loadSafetensors round trip', () => {
  test('float32 and int32 tensors, bit-exact, in insertion order, with metadata', () => {
    const special = new Float32Array([1.5, -0, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, -2.25]);
    const ints = new Int32Array([0, -1, 2147483647, -2147483648, 42, 7]);
    const m = new Map<string, Tensor>([
      ['w', new Tensor(special, [2, 4])],
      ['ids', new Tensor(ints, [3, 2])],
      ['a.b', new Tensor(new Float32Array([9]), [1])],
    ]);
    const meta = { config: '{"mode":"LSTM"}', note: 'ünïcode ✓' };
    const out = loadSafetensors(saveSafetensors(m, meta));

    expect(out).toBeInstanceOf(SafetensorsMap);
    expect(out).toBeInstanceOf(Map);
    expect([...out.keys()]).toEqual(['w', 'ids', 'a.b']);
    expect(out.metadata).toEqual(meta);
    const w = out.get('w')!;
    expect(w.dtype).toBe('float32');
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(w.shape).toEqual([2, 4]);
    expect(f32Bits(w.data as Float32Array)).toEqual(f32Bits(special));
    const ids = out.get('ids')!;
    expect(ids.dtype).toBe('int32');
    expect(ids.data).toBeInstanceOf(Int32Array);
    expect(ids.shape).toEqual([3, 2]);
    expect(Array.from(ids.data)).toEqual(Array.from(ints));
    expect(Array.from(out.get('a.b')!.data)).toEqual([9]);
  });

  test('empty tensors and shape [] scalars', () => {
    const rec = {
      empty: new Tensor(new Float32Array(0), [0]),
      empty3: new Tensor(new Int32Array(0), [2, 0, 3]),
      scalar: new Tensor(new Float32Array([-7.5]), []),
      iscalar: new Tensor(new Int32Array([123]), []),
    };
    const out = loadSafetensors(saveSafetensors(rec));
    expect(out.get('empty')!.shape).toEqual([0]);
    expect(out.get('empty')!.data).toEqual(new Float32Array(0));
    expect(out.get('empty3')!.shape).toEqual([2, 0, 3]);
    expect(out.get('empty3')!.dtype).toBe('int32');
    expect(out.get('scalar')!.shape).toEqual([]);
    expect(Array.from(out.get('scalar')!.data)).toEqual([-7.5]);
    expect(out.get('iscalar')!.dtype).toBe('int32');
    expect(Array.from(out.get('iscalar')!.data)).toEqual([123]);
    expect(out.metadata).toEqual({});
  });

  test('an empty map round-trips', () => {
    const out = loadSafetensors(saveSafetensors(new Map()));
    expect(out.size).toBe(0);
    expect(out.metadata).toEqual({});
  });

  test('tensors over a sub-range of a larger buffer save only their own data', () => {
    const big = new Float32Array([100, 1, 2, 3, 200]);
    const t = new Tensor(big.subarray(1, 4), [3]);
    expect(Array.from(loadSafetensors(saveSafetensors({ t })).get('t')!.data)).toEqual([1, 2, 3]);
  });

  test('a tensor named "__proto__" is kept as an ordinary name', () => {
    const m = new Map([['__proto__', new Tensor(new Float32Array([4]), [1])]]);
    const out = loadSafetensors(saveSafetensors(m));
    expect([...out.keys()]).toEqual(['__proto__']);
    expect(Array.from(out.get('__proto__')!.data)).toEqual([4]);
  });
});

describe('saveSafetensors layout', () => {
  test('F32/I32 dtypes, contiguous offsets, space padding to an 8-byte aligned data start', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = saveSafetensors({
        [name]: new Tensor(new Float32Array([1, 2, 3]), [3]),
        i: new Tensor(new Int32Array([5, 6]), [1, 2]),
      });
      const { length, json, text } = headerOf(bytes);
      expect((8 + length) % 8).toBe(0);
      expect(text).toBe(text.trimEnd() + ' '.repeat(text.length - text.trimEnd().length));
      const { __metadata__: metadata, ...entries } = json;
      expect(entries).toEqual({
        [name]: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
        i: { dtype: 'I32', shape: [1, 2], data_offsets: [12, 20] },
      });
      const data = bytes.subarray(8 + length);
      expect(metadata).toEqual({
        'cellscan.crc32': JSON.stringify({ [name]: crc32Hex(data.subarray(0, 12)), i: crc32Hex(data.subarray(12, 20)) }),
      });
      expect(bytes.length).toBe(8 + length + 20);
      // The data itself, little-endian: 1.0f = 0x3F800000, then int32 5 and 6.
      expect(Array.from(bytes.subarray(8 + length, 8 + length + 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
      expect(Array.from(bytes.subarray(8 + length + 12))).toEqual(le(4, [5, 6]));
    }
  });

  test('"__metadata__" holds the metadata given and the checksums, whose key the metadata may not hold', () => {
    const t = { x: new Tensor(new Float32Array([1]), [1]) };
    // 1.0f is 00 00 80 3f.
    const sums = JSON.stringify({ x: crc32Hex(new Uint8Array([0x00, 0x00, 0x80, 0x3f])) });
    expect(headerOf(saveSafetensors(t, { k: 'v' })).json.__metadata__).toEqual({ k: 'v', 'cellscan.crc32': sums });
    expect(headerOf(saveSafetensors(t, {})).json.__metadata__).toEqual({ 'cellscan.crc32': sums });
    expect(headerOf(saveSafetensors(t)).json.__metadata__).toEqual({ 'cellscan.crc32': sums });
    expect(() => saveSafetensors(t, { k: 'v', 'cellscan.crc32': '{}' })).toThrow(
      new RangeError('saveSafetensors: metadata["cellscan.crc32"] must be absent (the key holds the tensors\' checksums), got "{}"'),
    );
  });
});

// ---- loading every supported dtype from known bit patterns ----

describe('loadSafetensors dtype conversion', () => {
  test('F32 and I32 from little-endian bytes', () => {
    const f = loadSafetensors(one('F32', [2], le(4, [0x3f800000, 0xc0000000]))).get('x')!;
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.data)).toEqual([1, -2]);
    const i = loadSafetensors(one('I32', [3], le(4, [-5, 0x7fffffff, 0x80000000]))).get('x')!;
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.data)).toEqual([-5, 2147483647, -2147483648]);
  });

  test('F16: normals, subnormals, ±0, ±Inf and NaN exactly', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0400, 2 ** -14], // smallest normal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x8001, -(2 ** -24)],
      [0x0000, 0],
      [0x8000, -0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x7e00, NaN],
    ];
    const t = loadSafetensors(one('F16', [cases.length], le(2, cases.map((c) => c[0])))).get('x')!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([cases.length]);
    cases.forEach(([, want], i) => expect(Object.is(t.data[i], want)).toBe(true));
    // The quiet NaN keeps its bit pattern: 0x7E00 -> 0x7FC00000.
    expect(f32Bits(t.data as Float32Array)[cases.length - 1]).toBe(0x7fc00000);
  });

  test('BF16 is the top half of a float32', () => {
    const t = loadSafetensors(one('BF16', [2, 3], le(2, [0x3f80, 0xc040, 0x8000, 0x7f80, 0x0001, 0x4049]))).get('x')!;
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 3]);
    expect(f32Bits(t.data as Float32Array)).toEqual([0x3f800000, 0xc0400000, 0x80000000, 0x7f800000, 0x10000, 0x40490000]);
    expect(Array.from(t.data.slice(0, 2))).toEqual([1, -3]);
    expect(Object.is(t.data[2], -0)).toBe(true);
    expect(t.data[3]).toBe(Infinity);
    expect(t.data[4]).toBe(2 ** -133);
  });

  test('F64 rounds to float32', () => {
    const bits = [
      0x3ff0000000000000n, // 1
      0xc004000000000000n, // -2.5
      0x3fb999999999999an, // 0.1
      0x7e37e43c8800759cn, // 1e300, beyond float32
      0x8000000000000000n, // -0
      0x7ff8000000000000n, // NaN
    ];
    const t = loadSafetensors(one('F64', [6], le(8, bits))).get('x')!;
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.data.slice(0, 4))).toEqual([1, -2.5, Math.fround(0.1), Infinity]);
    expect(Object.is(t.data[4], -0)).toBe(true);
    expect(Number.isNaN(t.data[5])).toBe(true);
  });

  test('I64 within int32 range narrows to int32', () => {
    const t = loadSafetensors(one('I64', [4], le(8, [-5n, 2n ** 31n - 1n, -(2n ** 31n), 0n]))).get('x')!;
    expect(t.dtype).toBe('int32');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t.data)).toEqual([-5, 2147483647, -2147483648, 0]);
  });

  test('I64 outside int32 range is a RangeError naming the tensor, element and value', () => {
    const load = (v: bigint) => () => loadSafetensors(one('I64', [2], le(8, [1n, v]), 'ids'));
    expect(load(2n ** 31n)).toThrow(RangeError);
    expect(load(2n ** 31n)).toThrow(/^loadSafetensors: tensor "ids" \(I64\) element 1 must be in the int32 range.*got 2147483648$/);
    expect(load(-(2n ** 31n) - 1n)).toThrow(/"ids".*got -2147483649$/);
    expect(load(2n ** 63n - 1n)).toThrow(/"ids".*got 9223372036854775807$/);
    expect(load(2n ** 32n)).toThrow(/"ids".*got 4294967296$/);
  });

  test('an empty F16 tensor and a mixed-dtype file', () => {
    const bytes = build(
      {
        __metadata__: { a: 'b' },
        e: { dtype: 'F16', shape: [0, 4], data_offsets: [0, 0] },
        h: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] },
        i: { dtype: 'I32', shape: [], data_offsets: [2, 6] },
      },
      [...le(2, [0x3f80]), ...le(4, [-9])],
    );
    const out = loadSafetensors(bytes);
    expect([...out.keys()]).toEqual(['e', 'h', 'i']);
    expect(out.metadata).toEqual({ a: 'b' });
    expect(out.get('e')!.shape).toEqual([0, 4]);
    expect(out.get('e')!.data.length).toBe(0);
    expect(Array.from(out.get('h')!.data)).toEqual([1]);
    expect(out.get('i')!.shape).toEqual([]);
    expect(Array.from(out.get('i')!.data)).toEqual([-9]);
  });
});

// ---- memory: unaligned input, no aliasing, no reads outside the view ----

describe('loadSafetensors memory handling', () => {
  function mixedFile(): Uint8Array {
    return build(
      {
        f: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [1], data_offsets: [8, 10] },
        i: { dtype: 'I32', shape: [1], data_offsets: [10, 14] }, // unaligned within the data, too
        d: { dtype: 'F64', shape: [1], data_offsets: [14, 22] },
      },
      [...le(4, [0x3f800000, 0x40400000]), ...le(2, [0xc000]), ...le(4, [-3]), ...le(8, [0x3ff0000000000000n])],
    );
  }

  test('reads from a Uint8Array at an odd byteOffset', () => {
    const file = mixedFile();
    const backing = new ArrayBuffer(file.length + 8);
    const bytes = new Uint8Array(backing, 3, file.length);
    bytes.set(file);
    const out = loadSafetensors(bytes);
    expect(Array.from(out.get('f')!.data)).toEqual([1, 3]);
    expect(Array.from(out.get('h')!.data)).toEqual([-2]);
    expect(Array.from(out.get('i')!.data)).toEqual([-3]);
    expect(Array.from(out.get('d')!.data)).toEqual([1]);
  });

  test('results never alias the input (Uint8Array or Node Buffer)', () => {
    for (const bytes of [mixedFile(), Buffer.from(mixedFile())]) {
      const out = loadSafetensors(bytes);
      for (const t of out.values()) expect(t.data.buffer).not.toBe(bytes.buffer);
      bytes.fill(0xff);
      expect(Array.from(out.get('f')!.data)).toEqual([1, 3]);
      expect(Array.from(out.get('i')!.data)).toEqual([-3]);
    }
  });

  test('never reads past the end of the view, even when the backing buffer continues', () => {
    const file = one('F32', [2], le(4, [1, 2]));
    const backing = new Uint8Array(file.length + 16);
    backing.set(file, 1);
    const short = backing.subarray(1, file.length - 3); // the last 4 data bytes are outside the view
    expect(() => loadSafetensors(short)).toThrow(/^loadSafetensors: header\["x"\]\.data_offsets\[1\] must be at most 4 .*got 8$/);
  });
});

// ---- malformed input ----

describe('loadSafetensors rejects malformed files', () => {
  const entry = (e: unknown) => build({ x: e }, le(4, [0, 0]));
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    // (ArrayBuffers and other views are read as bytes: test/safetensors-bytes.)
    ['an array', () => loadSafetensors([1, 2, 3] as any), TypeError, /^loadSafetensors: bytes must be a Uint8Array, Buffer, ArrayBuffer or other ArrayBufferView, got \[1, 2, 3\]$/],
    ['null', () => loadSafetensors(null as any), TypeError, /bytes must be a Uint8Array, .*got null$/],
    ['5 bytes', () => loadSafetensors(new Uint8Array(5)), RangeError, /^loadSafetensors: bytes\.length must be at least 8 .*got 5$/],
    ['0 bytes', () => loadSafetensors(new Uint8Array(0)), RangeError, /bytes\.length must be at least 8 .*got 0$/],
    ['header length past the end', () => loadSafetensors(build('{}', [], 100n)), RangeError, /^loadSafetensors: header length must be at most 2 .*got 100$/],
    ['header length 2^53 + 1', () => loadSafetensors(build('{}', [], 2n ** 53n + 1n)), RangeError, /header length must be at most 2 .*got 9007199254740993$/],
    ['header length 2^64 - 1', () => loadSafetensors(build('{}', [], 2n ** 64n - 1n)), RangeError, /header length must be at most 2 .*got 18446744073709551615$/],
    ['invalid UTF-8', () => loadSafetensors(build(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))), TypeError, /^loadSafetensors: header must be UTF-8 JSON, got bytes that are not valid UTF-8$/],
    ['truncated JSON', () => loadSafetensors(build('{"x": ')), TypeError, /^loadSafetensors: header must be UTF-8 JSON, got "\{\\"x\\": " \(.+\)$/],
    ['empty header', () => loadSafetensors(build('')), TypeError, /header must be UTF-8 JSON, got "" \(/],
    ['a JSON array', () => loadSafetensors(build('[1, 2]')), TypeError, /^loadSafetensors: header must be a JSON object, got \[1, 2\]$/],
    ['JSON null', () => loadSafetensors(build('null')), TypeError, /header must be a JSON object, got null$/],
    ['a JSON number', () => loadSafetensors(build('3')), TypeError, /header must be a JSON object, got 3$/],
    ['an entry that is not an object', () => loadSafetensors(entry(7)), TypeError, /^loadSafetensors: header\["x"\] must be an object with dtype, shape and data_offsets, got 7$/],
    ['missing dtype', () => loadSafetensors(entry({ shape: [2], data_offsets: [0, 8] })), TypeError, /^loadSafetensors: header\["x"\]\.dtype must be a string, one of F32, F16, BF16, F64, I32, I64, got undefined$/],
    ['numeric dtype', () => loadSafetensors(entry({ dtype: 4, shape: [2], data_offsets: [0, 8] })), TypeError, /header\["x"\]\.dtype must be a string.*got 4$/],
    ['unknown dtype', () => loadSafetensors(entry({ dtype: 'U8', shape: [8], data_offsets: [0, 8] })), RangeError, /^loadSafetensors: header\["x"\]\.dtype must be one of F32, F16, BF16, F64, I32, I64, got "U8"$/],
    ['lower-case dtype', () => loadSafetensors(entry({ dtype: 'f32', shape: [2], data_offsets: [0, 8] })), RangeError, /dtype must be one of .*got "f32"$/],
    ['missing shape', () => loadSafetensors(entry({ dtype: 'F32', data_offsets: [0, 8] })), TypeError, /^loadSafetensors: header\["x"\]\.shape must be an array of non-negative integers, got undefined$/],
    ['string shape', () => loadSafetensors(entry({ dtype: 'F32', shape: '2', data_offsets: [0, 8] })), TypeError, /header\["x"\]\.shape must be an array.*got "2"$/],
    ['negative dimension', () => loadSafetensors(entry({ dtype: 'F32', shape: [-2], data_offsets: [0, 8] })), RangeError, /^loadSafetensors: header\["x"\]\.shape\[0\] must be a non-negative integer, got -2$/],
    ['fractional dimension', () => loadSafetensors(entry({ dtype: 'F32', shape: [1, 1.5], data_offsets: [0, 8] })), RangeError, /header\["x"\]\.shape\[1\] must be a non-negative integer, got 1\.5$/],
    ['string dimension', () => loadSafetensors(entry({ dtype: 'F32', shape: ['2'], data_offsets: [0, 8] })), RangeError, /header\["x"\]\.shape\[0\] must be a non-negative integer, got "2"$/],
    ['missing data_offsets', () => loadSafetensors(entry({ dtype: 'F32', shape: [2] })), TypeError, /^loadSafetensors: header\["x"\]\.data_offsets must be an array \[begin, end\], got undefined$/],
    ['three offsets', () => loadSafetensors(entry({ dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] })), TypeError, /data_offsets must be an array \[begin, end\], got \[0, 4, 8\]$/],
    ['fractional offset', () => loadSafetensors(entry({ dtype: 'F32', shape: [2], data_offsets: [0.5, 8] })), RangeError, /^loadSafetensors: header\["x"\]\.data_offsets\[0\] must be a non-negative integer, got 0\.5$/],
    ['negative offset', () => loadSafetensors(entry({ dtype: 'F32', shape: [0], data_offsets: [-4, -4] })), RangeError, /data_offsets\[0\] must be a non-negative integer, got -4$/],
    ['string offset', () => loadSafetensors(entry({ dtype: 'F32', shape: [2], data_offsets: [0, '8'] })), RangeError, /data_offsets\[1\] must be a non-negative integer, got "8"$/],
    ['begin > end', () => loadSafetensors(entry({ dtype: 'F32', shape: [1], data_offsets: [8, 4] })), RangeError, /^loadSafetensors: header\["x"\]\.data_offsets must be \[begin, end\] with begin ≤ end, got \[8, 4\]$/],
    ['end past the data', () => loadSafetensors(entry({ dtype: 'F32', shape: [3], data_offsets: [0, 12] })), RangeError, /^loadSafetensors: header\["x"\]\.data_offsets\[1\] must be at most 8 \(the data buffer length\), got 12$/],
    ['a huge end offset', () => loadSafetensors(entry({ dtype: 'F32', shape: [3], data_offsets: [0, 2 ** 60] })), RangeError, /data_offsets\[1\] must be at most 8 \(the data buffer length\), got 1152921504606847000$/],
    ['size disagreeing with shape', () => loadSafetensors(entry({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 8] })), RangeError, /^loadSafetensors: header\["x"\]\.data_offsets must span 24 bytes \(6 elements of shape \[2, 3\] × 4 bytes for F32\), got 8 bytes \(\[0, 8\]\)$/],
    ['size disagreeing with itemsize', () => loadSafetensors(entry({ dtype: 'F64', shape: [2], data_offsets: [0, 8] })), RangeError, /must span 16 bytes .*got 8 bytes/],
    ['a huge shape, counted exactly', () => loadSafetensors(entry({ dtype: 'I32', shape: [2 ** 52, 2 ** 52], data_offsets: [0, 0] })), RangeError, /must span 81129638414606681695789005144064 bytes/],
    ['overflowing dimensions around a zero', () => loadSafetensors(entry({ dtype: 'F32', shape: Array(25).fill(2 ** 50).concat([0]), data_offsets: [0, 0] })), RangeError, /^loadSafetensors: header\["x"\]\.shape must be a shape whose size is representable/],
    ['metadata that is not an object', () => loadSafetensors(build({ __metadata__: 'x' })), TypeError, /^loadSafetensors: header\["__metadata__"\] must be an object of strings, got "x"$/],
    ['metadata array', () => loadSafetensors(build({ __metadata__: ['a'] })), TypeError, /header\["__metadata__"\] must be an object of strings, got \["a"\]$/],
    ['a metadata value that is not a string', () => loadSafetensors(build({ __metadata__: { seed: 3 } })), TypeError, /^loadSafetensors: header\["__metadata__"\]\["seed"\] must be a string, got 3$/],
  ];

  test.each(cases)('%s', (_label, run, cls, message) => {
    expect(run).toThrow(cls);
    expect(run).toThrow(message);
  });

  test('random corruption of a valid file never escapes as anything but TypeError/RangeError', () => {
    const good = saveSafetensors(
      { a: new Tensor(new Float32Array([1, 2, 3]), [3]), b: new Tensor(new Int32Array([4]), [1]) },
      { m: 'x' },
    );
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 2000; k++) {
      const bytes = good.slice();
      for (let j = 0; j < 3; j++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      try {
        loadSafetensors(cut);
      } catch (e) {
        expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
        expect((e as Error).message).toMatch(/^loadSafetensors: /);
      }
    }
  });
});

describe('saveSafetensors rejects bad arguments', () => {
  const t = new Tensor(new Float32Array([1]), [1]);
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['a non-Tensor value', () => saveSafetensors({ w: new Float32Array(2) as any }), TypeError, /^saveSafetensors: tensors\["w"\] must be a Tensor, got Float32Array\(2\)$/],
    ['a plain tensor-like object', () => saveSafetensors(new Map([['b', { data: new Float32Array(1), shape: [1] } as any]])), TypeError, /^saveSafetensors: tensors\["b"\] must be a Tensor, got an object$/],
    ['null value', () => saveSafetensors({ ok: t, bad: null as any }), TypeError, /tensors\["bad"\] must be a Tensor, got null$/],
    ['the name "__metadata__"', () => saveSafetensors(new Map([['__metadata__', t]])), RangeError, /^saveSafetensors: tensor name must be not "__metadata__", got "__metadata__"$/],
    ['a non-string Map key', () => saveSafetensors(new Map([[3 as any, t]])), TypeError, /^saveSafetensors: tensor name must be a string, got 3$/],
    ['tensors that are not a collection', () => saveSafetensors(null as any), TypeError, /^saveSafetensors: tensors must be a Map or an object of Tensors, got null$/],
    ['an array of tensors', () => saveSafetensors([t] as any), TypeError, /tensors must be a Map or an object of Tensors, got \[a float32 Tensor of shape \[1\]\]$/],
    ['a metadata value that is not a string', () => saveSafetensors({ t }, { seed: 3 as any }), TypeError, /^saveSafetensors: metadata\["seed"\] must be a string, got 3$/],
    ['metadata that is not an object', () => saveSafetensors({ t }, 'x' as any), TypeError, /^saveSafetensors: metadata must be an object of strings, got "x"$/],
  ];

  test.each(cases)('%s', (_label, run, cls, message) => {
    expect(run).toThrow(cls);
    expect(run).toThrow(message);
  });
});

// ---- the golden fixtures ----

describe('golden fixtures', () => {
  const dir = FIXTURES_DIR;

  test('every fixture loads, has a config with a mode, and consistent tensors', () => {
    // readdirSync throws (failing the test) when the folder is missing; an empty folder fails below.
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, f)));
      const out = loadSafetensors(bytes);
      expect(typeof out.metadata.config).toBe('string');
      const config = JSON.parse(out.metadata.config);
      expect(config).toHaveProperty('mode');
      expect(['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU', 'LSTMCell', 'GRUCell', 'RNNCell_TANH', 'RNNCell_RELU']).toContain(config.mode);
      expect(out.size).toBeGreaterThan(0);
      for (const [name, t] of out) {
        const n = t.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== n) throw new Error(`${f}: ${name} has ${t.data.length} elements for shape [${t.shape}]`);
      }
      // Saving what was loaded and loading it again gives the same tensors.
      const again = loadSafetensors(saveSafetensors(out, out.metadata));
      expect(again.metadata).toEqual(out.metadata);
      expect([...again.keys()]).toEqual([...out.keys()]);
      for (const [name, t] of out) expect(again.get(name)!.data).toEqual(t.data);
    }
  });
});

// ---- checksums: a damaged checkpoint is refused, never computed with ----

describe('checksums', () => {
  const tensors = {
    'rnn.weight_ih_l0': new Tensor(Float32Array.from([0.5, -1.25, 3, 1e-3, -7]), [5]),
    steps: new Tensor(new Int32Array([3, 1]), [2]),
  };

  test('every single flipped bit of a saved file is refused or leaves every tensor as saved', () => {
    const bytes = saveSafetensors(tensors, { note: 'x' });
    const dataStart = 8 + headerOf(bytes).length;
    let refusedInData = 0;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const damaged = bytes.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      let loaded;
      try {
        loaded = loadSafetensors(damaged);
      } catch (e) {
        expect([TypeError, RangeError]).toContain((e as Error).constructor);
        if (bit >> 3 >= dataStart) {
          expect((e as Error).message).toMatch(/^loadSafetensors: tensor "(rnn\.weight_ih_l0|steps)" has CRC-32 [0-9a-f]{8}, the file recorded "[0-9a-f]{8}": the file is damaged/);
          refusedInData++;
        }
        continue;
      }
      // A flip in the header that still parses (a metadata key, say): the data is untouched.
      expect(bit >> 3).toBeLessThan(dataStart);
      for (const [name, t] of Object.entries(tensors)) {
        if (!loaded.has(name)) continue;
        expect(loaded.get(name)!.shape).toEqual(t.shape);
        expect(Array.from(loaded.get(name)!.data)).toEqual(Array.from(t.data));
      }
    }
    expect(refusedInData).toBe((bytes.length - dataStart) * 8);
  });

  test('files without checksums (PyTorch\'s save_file writes none) load as they are', () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, __metadata__: { format: 'pt' } });
    const h = new TextEncoder().encode(header);
    const file = new Uint8Array(8 + h.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(h.length), true);
    file.set(h, 8);
    new DataView(file.buffer).setFloat32(8 + h.length, 2.5, true);
    const out = loadSafetensors(file);
    expect(Array.from(out.get('w')!.data)).toEqual([2.5, 0]);
    expect(out.metadata).toEqual({ format: 'pt' });
  });

  test('the loaded metadata leaves the checksums out, so a loaded file saves again as it was', () => {
    const once = loadSafetensors(saveSafetensors(tensors, { note: 'x' }));
    expect(once.metadata).toEqual({ note: 'x' });
    expect(saveSafetensors(once, once.metadata)).toEqual(saveSafetensors(tensors, { note: 'x' }));
  });

  test('a checksum for a tensor the file lacks, or a tensor with none, is refused', () => {
    const sums = (o: Record<string, string>) => ({ 'cellscan.crc32': JSON.stringify(o) });
    const file = (meta: Record<string, string>) => {
      const header = JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, __metadata__: meta });
      const h = new TextEncoder().encode(header);
      const out = new Uint8Array(8 + h.length + 4);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      return out;
    };
    const zeros = crc32Hex(new Uint8Array(4));
    expect(loadSafetensors(file(sums({ w: zeros }))).get('w')!.data[0]).toBe(0);
    expect(() => loadSafetensors(file(sums({ w: zeros, v: zeros })))).toThrow(
      new RangeError('loadSafetensors: tensor "v" has a recorded checksum but is not in the file: the file is damaged or was changed after it was written'),
    );
    expect(() => loadSafetensors(file(sums({})))).toThrow(
      new RangeError('loadSafetensors: tensor "w" has no recorded checksum: the file is damaged or was changed after it was written'),
    );
    expect(() => loadSafetensors(file({ 'cellscan.crc32': '{' }))).toThrow(/its "cellscan.crc32" metadata is not JSON/);
    expect(() => loadSafetensors(file({ 'cellscan.crc32': '[1]' }))).toThrow(/its "cellscan.crc32" metadata is not an object of checksums/);
  });
});
