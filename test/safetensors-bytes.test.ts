// loadSafetensors reads the bytes of whatever holds them: a Uint8Array or Buffer, an ArrayBuffer
// (fetch's arrayBuffer(), a worker's transfer), a SharedArrayBuffer, or any view (DataView, typed
// arrays) over the bytes it spans; anything else is a TypeError naming bytes.
import { loadSafetensors, saveSafetensors, Tensor } from '../src';

const file = saveSafetensors(
  { w: new Tensor(Float32Array.from([1.5, -2, 3.25]), [3]), ids: new Tensor(Int32Array.from([7, -1]), [2]) },
  { note: 'x' },
);

function expectSameTensors(m: Map<string, Tensor>): void {
  expect([...m.keys()]).toEqual(['w', 'ids']);
  expect(m.get('w')!.dtype).toBe('float32');
  expect([...m.get('w')!.data]).toEqual([1.5, -2, 3.25]);
  expect(m.get('ids')!.dtype).toBe('int32');
  expect([...m.get('ids')!.data]).toEqual([7, -1]);
}

/** `file` at byte `at` of a larger buffer filled with 0xee, so a reader that ignores the offset fails. */
function embedded(at: number): ArrayBuffer {
  const backing = new Uint8Array(at + file.length + 13).fill(0xee);
  backing.set(file, at);
  return backing.buffer;
}

describe('loadSafetensors takes any holder of the bytes', () => {
  test('a Uint8Array and a Buffer', () => {
    expectSameTensors(loadSafetensors(file));
    expectSameTensors(loadSafetensors(Buffer.from(file)));
  });

  test('an ArrayBuffer and a SharedArrayBuffer', () => {
    expectSameTensors(loadSafetensors(file.slice().buffer));
    const shared = new SharedArrayBuffer(file.length);
    new Uint8Array(shared).set(file);
    expectSameTensors(loadSafetensors(shared));
  });

  test('views read the bytes they span, not their whole buffer', () => {
    const at = 24; // a multiple of 4, so the Int32Array below can start there
    const buffer = embedded(at);
    expectSameTensors(loadSafetensors(new DataView(buffer, at, file.length)));
    expectSameTensors(loadSafetensors(new Uint8Array(buffer, at, file.length)));
    expectSameTensors(loadSafetensors(Buffer.from(buffer, at, file.length)));
    // The header is padded to 8 bytes and the data is 20: whole int32s, whole int16s.
    expectSameTensors(loadSafetensors(new Int32Array(buffer, at, file.length / 4)));
    expectSameTensors(loadSafetensors(new Int16Array(buffer, at - 2, file.length / 2 + 1).subarray(1)));
  });

  test('the result never aliases the caller\'s memory', () => {
    const buffer = file.slice().buffer;
    const m = loadSafetensors(buffer);
    new Uint8Array(buffer).fill(0);
    expectSameTensors(m);
  });

  test('metadata comes through whatever the holder', () => {
    expect(loadSafetensors(new DataView(file.slice().buffer)).metadata).toEqual({ note: 'x' });
  });
});

describe('loadSafetensors refuses what holds no bytes, naming bytes', () => {
  const expected = 'a Uint8Array, Buffer, ArrayBuffer or other ArrayBufferView';
  const cases: [string, unknown, RegExp][] = [
    ['an array of numbers', [1, 2, 3], /got \[1, 2, 3\]$/],
    ['a string', 'abc', /got "abc"$/],
    ['null', null, /got null$/],
    ['undefined', undefined, /got undefined$/],
    ['a number', 8, /got 8$/],
    ['an object with a buffer', { buffer: file.buffer, byteLength: file.length }, /got an object$/],
    ['a Blob', new Blob([file]), /got a Blob$/],
  ];
  test.each(cases)('%s', (_name, value, given) => {
    const call = () => loadSafetensors(value as never);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new RegExp(`^loadSafetensors: bytes must be ${expected}, got `));
    expect(call).toThrow(given);
  });

  test('a holder shorter than the u64 header length names its byteLength', () => {
    expect(() => loadSafetensors(new ArrayBuffer(5))).toThrow(/^loadSafetensors: bytes\.byteLength must be at least 8 \(the u64 header length\), got 5$/);
    expect(() => loadSafetensors(new Float32Array(1))).toThrow(/^loadSafetensors: bytes\.byteLength must be at least 8 .*got 4$/);
    expect(() => loadSafetensors(new Uint8Array(5))).toThrow(/^loadSafetensors: bytes\.length must be at least 8 .*got 5$/);
  });

  test('a malformed file is reported the same whatever holds it', () => {
    const bad = new Uint8Array(16); // header length 0: an empty header is not JSON
    for (const holder of [bad, bad.buffer, new DataView(bad.buffer), new Float64Array(bad.buffer)]) {
      expect(() => loadSafetensors(holder)).toThrow(/^loadSafetensors: header must be UTF-8 JSON, got "" \(/);
    }
  });
});
