// Property-based: hostile safetensors bytes. Whatever the bytes, loadSafetensors returns tensors
// or throws a TypeError/RangeError that starts "loadSafetensors: " and says which part is wrong; it
// never throws anything else (a SyntaxError, V8's stack overflow, a DataView bounds error), and a
// file that loads holds exactly what its header says. saveSafetensors is checked likewise, and
// round-trips what it accepts.
import fc from 'fast-check';
import { Tensor, loadSafetensors, saveSafetensors } from '../src';
import { expectArgumentError, expectRefused, runs, wrongType } from './helpers/fuzz';

// (An I64 value out of the int32 range is named by its tensor.)
const parts = ['bytes', 'header', 'metadata', 'checksum', 'tensor "'];

function loadOrRefuse(bytes: Uint8Array): Map<string, Tensor> | undefined {
  try {
    return loadSafetensors(bytes);
  } catch (e) {
    expectArgumentError(e, 'loadSafetensors: ', parts);
    return undefined;
  }
}

function file(header: unknown, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const dtypes = ['F32', 'F16', 'BF16', 'F64', 'I32', 'I64'] as const;
const itemSize: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 };

// Entries near the valid ones: known and unknown dtypes, shapes and offsets that may disagree,
// point past the data, overlap another entry or hold values of the wrong kind.
const offset = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64, 1e300, '8', null));
const entry = fc.record(
  {
    dtype: fc.oneof(fc.constantFrom(...dtypes), fc.constantFrom('F8', 'U8', 'f32', '', 'toString', '__proto__', 5, null)),
    shape: fc.oneof(
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.constantFrom(0.5, 2 ** 53, 1e300, '2', null, [1])), { maxLength: 3 }),
      fc.constantFrom(3, 'x', null, {}),
    ),
    data_offsets: fc.oneof(fc.tuple(offset, offset), fc.array(offset, { maxLength: 3 }), fc.constantFrom(null, '0,4', {})),
  },
  { requiredKeys: [] },
);
const metadata = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.constant(null), fc.constant([])), { minKeys: 1, maxKeys: 2 }),
  fc.constantFrom({ 'cellscan.crc32': 'not json' }, { 'cellscan.crc32': '{"a":"00000000"}' }, { 'cellscan.crc32': '[]' }, 3, 'm', null),
);
const header = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 5 }), entry, { maxKeys: 4 }),
  fc.tuple(fc.dictionary(fc.string({ maxLength: 5 }), entry, { maxKeys: 3 }), metadata).map(([h, m]) => ({ ...h, __metadata__: m })),
  fc.constantFrom([], 3, 'x', null, [{}]),
);

/** A valid file of random tensors, with the headers JSON and where the data starts. */
const validFile = fc
  .array(fc.record({ name: fc.string({ minLength: 1, maxLength: 4 }), dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) }), { maxLength: 4 })
  .map((list) => {
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const t of list) {
      if (t.name === '__metadata__' || Object.hasOwn(header, t.name)) continue;
      const bytes = t.shape.reduce((a, b) => a * b, 1) * itemSize[t.dtype];
      header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + bytes] };
      at += bytes;
    }
    // I64 values are written as small integers so that they fit int32.
    return file(header, new Uint8Array(at));
  });

describe('loadSafetensors on hostile bytes', () => {
  test('random bytes: tensors or a named TypeError/RangeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void loadOrRefuse(bytes)), runs(300));
  });

  test('random headers over random data: what loads matches its header', () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 96 }), (h, data) => {
        const got = loadOrRefuse(file(h, data));
        if (!got) return;
        for (const [name, t] of got) {
          const e = (h as Record<string, { shape: number[] }>)[name];
          expect(t.shape).toEqual(e.shape);
        }
      }),
      runs(500),
    );
  });

  test('the header length field: past the end, huge, or cutting the JSON short', () => {
    const lengths = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 32n));
    fc.assert(fc.property(validFile, lengths, (f, n) => {
      const bytes = f.slice();
      new DataView(bytes.buffer).setBigUint64(0, n, true);
      loadOrRefuse(bytes);
    }), runs(200));
  });

  test('valid files with one byte changed or cut short: tensors or a named error', () => {
    fc.assert(
      fc.property(validFile, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (f, at, value, cut) => {
        const bytes = cut ? f.slice(0, at % (f.length + 1)) : f.slice();
        if (!cut && bytes.length) bytes[at % bytes.length] = value;
        loadOrRefuse(bytes);
      }),
      runs(400),
    );
  });

  test('headers that are not UTF-8 JSON, or deeply nested JSON', () => {
    const nested = fc.integer({ min: 1, max: 200_000 }).chain((depth) =>
      fc.constantFrom(
        `${'['.repeat(depth)}${']'.repeat(depth)}`,
        `{"t":{"dtype":"F32","shape":${'['.repeat(depth)}1${']'.repeat(depth)},"data_offsets":[0,4]}}`,
        `{"t":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
        `{"__metadata__":{"k":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
        `${'['.repeat(depth)}`,
      ));
    const notUtf8 = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Uint8Array.from([0x7b, 0xc3, 0x28, ...b]));
    fc.assert(fc.property(nested, (h) => void loadOrRefuse(file(h, new Uint8Array(4)))), runs(40));
    fc.assert(fc.property(notUtf8, (bytes) => {
      const f = new Uint8Array(8 + bytes.length);
      new DataView(f.buffer).setBigUint64(0, BigInt(bytes.length), true);
      f.set(bytes, 8);
      loadOrRefuse(f);
    }), runs(60));
  });

  test('overlapping data ranges are refused, naming the entry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), (n, shift) => {
        // Two F32 tensors of n elements each whose byte ranges share at least one element.
        const begin = Math.min(shift, n - 1) * 4;
        const h = { a: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] }, b: { dtype: 'F32', shape: [n], data_offsets: [begin, begin + 4 * n] } };
        expectRefused(() => loadSafetensors(file(h, new Uint8Array(8 * n))), 'loadSafetensors', ['header["b"].data_offsets', 'header["a"].data_offsets']);
      }),
      runs(40),
    );
  });

  test('what holds no bytes is refused, naming bytes', () => {
    // Views and ArrayBuffers are bytes (test/safetensors-bytes); these are too short, which names bytes too.
    const holders = fc.constantFrom(new ArrayBuffer(4), new Int8Array(4), new Float32Array(1), new DataView(new ArrayBuffer(7)));
    fc.assert(fc.property(fc.oneof(wrongType().filter((v) => !ArrayBuffer.isView(v)), holders), (v) =>
      expectRefused(() => loadSafetensors(v as never), 'loadSafetensors', ['bytes'])), runs(60));
  });
});

describe('saveSafetensors', () => {
  const tensor = fc.oneof(
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc.oneof(
        fc.float32Array({ minLength: n, maxLength: n }).map((d) => new Tensor(d, shape)),
        fc.int32Array({ minLength: n, maxLength: n }).map((d) => new Tensor(d, shape)),
      );
    }),
  );

  test('round-trips any tensors and metadata it accepts, bit for bit', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__metadata__'), tensor, { maxKeys: 4 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), (tensors, meta) => {
        const loaded = loadSafetensors(saveSafetensors(tensors, meta));
        expect([...loaded.keys()].sort()).toEqual(Object.keys(tensors).sort());
        for (const [name, t] of Object.entries(tensors)) {
          const back = loaded.get(name)!;
          expect(back.shape).toEqual(t.shape);
          expect(back.dtype).toBe(t.dtype);
          expect(new Uint8Array(back.data.buffer, back.data.byteOffset, back.data.byteLength)).toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        }
        for (const [k, v] of Object.entries(meta)) if (k !== 'cellscan.crc32') expect(loaded.metadata[k]).toBe(v);
      }),
      runs(150),
    );
  });

  test('refuses what is not a map of Tensors or metadata of strings, naming it', () => {
    const broken = fc.oneof(
      wrongType().filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v))).map((t) => ({ args: [t], named: 'tensors' })),
      fc.oneof(wrongType(), fc.constant(new Float32Array(2))).filter((v) => v !== undefined).map((v) => ({ args: [{ x: v }], named: 'tensors["x"]' })),
      fc.constant({ args: [{ __metadata__: Tensor.zeros([1]) }], named: 'tensor name' }),
      fc.constant({ args: [new Map([[3 as never, Tensor.zeros([1])]])], named: 'tensor name' }),
      fc.oneof(fc.constantFrom(3, 'm', [], null), fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.integer(), fc.constant(null)), { minKeys: 1, maxKeys: 2 }))
        .map((m) => ({ args: [{ x: Tensor.zeros([1]) }, m], named: 'metadata' })),
    );
    fc.assert(fc.property(broken, ({ args, named }) => expectRefused(() => saveSafetensors(...(args as [never])), 'saveSafetensors', [named])), runs(150));
  });
});

// Counterexamples the properties above found, kept as fixed cases.
describe('regressions found by fuzzing', () => {
  test('a header nested 100,000 levels deep is named, not a stack overflow', () => {
    const deep = `{"t":{"dtype":"F32","shape":${'['.repeat(100_000)}1${']'.repeat(100_000)},"data_offsets":[0,4]}}`;
    expectRefused(() => loadSafetensors(file(deep, new Uint8Array(4))), 'loadSafetensors', ['header["t"].shape[0] must be a non-negative integer, got [[[…]]]']);
    expectRefused(() => loadSafetensors(file('['.repeat(100_000) + ']'.repeat(100_000))), 'loadSafetensors', ['header must be a JSON object, got [[[…]]]']);
  });

  test('two tensors over the same bytes were both loaded', () => {
    const h = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    expectRefused(() => loadSafetensors(file(h, new Uint8Array(4))), 'loadSafetensors', ['header["b"].data_offsets must be a range that no other tensor\'s overlaps, got [0, 4], which overlaps header["a"].data_offsets [0, 4]']);
    // Empty tensors take no bytes, so they overlap nothing.
    const empty = { a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    expect([...loadSafetensors(file(empty, new Uint8Array(4))).keys()]).toEqual(['a', 'b']);
  });
});
