// Tensor.from and tensor.toArray: nested JavaScript arrays in and out, as torch.tensor(list) and
// Tensor.tolist() do, typed arrays in, and every refusal named by where the bad element sits.
import { Tensor } from '../src';

describe('Tensor.from', () => {
  test('reads the shape from a nested array, row-major', () => {
    const t = Tensor.from([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
    const cube = Tensor.from([[[1], [2]], [[3], [4]], [[5], [6]]]);
    expect(cube.shape).toEqual([3, 2, 1]);
    expect([...cube.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('a flat array or typed array is one dimension, which a shape argument reshapes', () => {
    expect(Tensor.from([1, 2, 3]).shape).toEqual([3]);
    const t = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(t.shape).toEqual([3, 2]);
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
    // A nested array is read in its own order, then reshaped, as torch.tensor(x).reshape(shape).
    expect(Tensor.from([[1, 2], [3, 4]], [4]).shape).toEqual([4]);
    expect(Tensor.from(new Float64Array([1, 2, 3, 4]), [2, 2]).shape).toEqual([2, 2]);
  });

  test('typed arrays: float32 unless Int32Array, always a copy', () => {
    const f64 = Tensor.from(new Float64Array([0.1, 1e40, -2.5]));
    expect(f64.dtype).toBe('float32');
    expect([...f64.data]).toEqual([Math.fround(0.1), Infinity, -2.5]);
    const source = new Int32Array([7, -8]);
    const ints = Tensor.from(source);
    expect(ints.dtype).toBe('int32');
    source[0] = 99;
    expect([...ints.data]).toEqual([7, -8]);
    const f32 = new Float32Array([1, 2]);
    const copy = Tensor.from(f32);
    expect(copy.data).not.toBe(f32);
    expect(Tensor.from(Buffer.from([1, 255])).data).toEqual(new Float32Array([1, 255]));
    expect(Tensor.from(new Uint8Array([3]), [1, 1]).shape).toEqual([1, 1]);
  });

  test('dtype int32 from numbers, and float32 from an Int32Array when asked', () => {
    const ids = Tensor.from([[0, 5], [-3, 2147483647]], undefined, 'int32');
    expect(ids.dtype).toBe('int32');
    expect([...ids.data]).toEqual([0, 5, -3, 2147483647]);
    expect(Tensor.from(new Int32Array([4]), [1], 'float32').dtype).toBe('float32');
    expect(Tensor.from(new Float64Array([1, -2]), undefined, 'int32').data).toEqual(new Int32Array([1, -2]));
  });

  test('a number is a tensor of shape []; empty arrays give zero dimensions', () => {
    const s = Tensor.from(2.5);
    expect(s.shape).toEqual([]);
    expect([...s.data]).toEqual([2.5]);
    expect(Tensor.from([]).shape).toEqual([0]);
    expect(Tensor.from([[], []]).shape).toEqual([2, 0]);
    expect(Tensor.from([], [0, 4]).shape).toEqual([0, 4]);
  });

  test('NaN, infinities and -0 are data, not errors', () => {
    const t = Tensor.from([NaN, -Infinity, -0]);
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(-Infinity);
    expect(Object.is(t.data[2], -0)).toBe(true);
  });

  test('a nesting 100,000 levels deep is read without exhausting the stack', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const t = Tensor.from(deep as number[]);
    expect(t.shape.length).toBe(100_001);
    expect([...t.data]).toEqual([1]);
    let back = t.toArray();
    let depth = 0;
    let wider = 0;
    while (Array.isArray(back)) {
      if (back.length !== 1) wider++;
      back = back[0];
      depth++;
    }
    expect([depth, wider, back]).toEqual([100_001, 0, 1]);
  });
});

describe('Tensor.from refuses, naming the element', () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['a ragged row', () => Tensor.from([[1, 2, 3], [4, 5]]), RangeError,
      /^Tensor\.from: values\[1\] must be an array of 3 numbers \(a nested array must be rectangular\), got \[4, 5\]$/],
    ['a ragged inner array', () => Tensor.from([[[1], [2]], [[3], [4, 5]]]), RangeError,
      /^Tensor\.from: values\[1\]\[1\] must be an array of 1 numbers .*got \[4, 5\]$/],
    ['a number where a row belongs', () => Tensor.from([[1, 2], 3]), TypeError,
      /^Tensor\.from: values\[1\] must be an array of 2 numbers \(a nested array must be rectangular\), got 3$/],
    ['a row where a number belongs', () => Tensor.from([1, [2]]), TypeError, /^Tensor\.from: values\[1\] must be a number, got \[2\]$/],
    ['a string element', () => Tensor.from([[1, 2], [3, '4']] as never), TypeError, /^Tensor\.from: values\[1\]\[1\] must be a number, got "4"$/],
    ['a hole', () => Tensor.from([1, , 3] as never), TypeError, /^Tensor\.from: values\[1\] must be a number, got undefined$/],
    ['a boolean', () => Tensor.from([true] as never), TypeError, /^Tensor\.from: values\[0\] must be a number, got true$/],
    ['a string', () => Tensor.from('1,2' as never), TypeError,
      /^Tensor\.from: values must be a number, a \(nested\) array of numbers or a typed array, got "1,2"$/],
    ['null', () => Tensor.from(null as never), TypeError, /^Tensor\.from: values must be .*, got null$/],
    ['an array-like object', () => Tensor.from({ length: 2, 0: 1, 1: 2 } as never), TypeError, /^Tensor\.from: values must be .*, got an object$/],
    ['a BigInt64Array', () => Tensor.from(new BigInt64Array(2) as never), TypeError, /^Tensor\.from: values must be .*, got BigInt64Array\(2\)$/],
    ['a DataView', () => Tensor.from(new DataView(new ArrayBuffer(4)) as never), TypeError, /^Tensor\.from: values must be .*, got DataView\(4\)$/],
    ['too few elements for the shape', () => Tensor.from([1, 2, 3, 4, 5, 6], [4, 2]), RangeError,
      /^Tensor\.from: shape must be a shape of 6 elements \(as many as values holds\), got \[4, 2\] \(8 elements\)$/],
    ['too many elements for the shape', () => Tensor.from(new Float32Array(5), [2, 2]), RangeError,
      /^Tensor\.from: shape must be a shape of 5 elements .*got \[2, 2\] \(4 elements\)$/],
    ['a negative dimension', () => Tensor.from([1, 2], [-2]), RangeError, /^Tensor\.from: shape\[0\] must be a non-negative integer, got -2$/],
    ['a shape that is no array', () => Tensor.from([1, 2], 2 as never), TypeError, /^Tensor\.from: shape must be an array of non-negative integers, got 2$/],
    ['a fraction as int32', () => Tensor.from([[1, 1.5]], undefined, 'int32'), RangeError,
      /^Tensor\.from: values\[0\]\[1\] must be an integer in the int32 range \[-2147483648, 2147483647\], got 1\.5$/],
    ['2^31 as int32', () => Tensor.from(new Uint32Array([0, 2 ** 31]), undefined, 'int32'), RangeError,
      /^Tensor\.from: values\[1\] must be an integer in the int32 range .*got 2147483648$/],
    ['NaN as int32', () => Tensor.from(NaN, undefined, 'int32'), RangeError, /^Tensor\.from: values must be an integer in the int32 range .*got NaN$/],
    ['an unknown dtype', () => Tensor.from([1], undefined, 'float64' as never), RangeError, /^Tensor\.from: dtype must be "float32" or "int32", got "float64"$/],
    ['an unknown dtype for zeros', () => Tensor.zeros([2], 'float64' as never), RangeError, /^Tensor\.zeros: dtype must be "float32" or "int32", got "float64"$/],
  ];
  test.each(cases)('%s', (_name, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });

  test('an array that contains itself', () => {
    const loop: unknown[] = [];
    loop.push(loop);
    expect(() => Tensor.from(loop as never)).toThrow(TypeError);
    expect(() => Tensor.from(loop as never)).toThrow(/^Tensor\.from: values\[0\] must be a nested array of numbers, got an array that contains itself$/);
  });

  test('a first row that claims a huge shape is refused before anything is allocated for it', () => {
    // values[0] says [100000, 100000] (10^10 elements); the other rows are missing.
    const outer: unknown[] = new Array(100_000);
    outer[0] = new Array(100_000).fill(0);
    expect(() => Tensor.from(outer as never)).toThrow(/^Tensor\.from: values\[1\] must be an array of 100000 numbers .*got undefined$/);
  });
});

describe('tensor.toArray', () => {
  test('nested arrays of the shape, as PyTorch tolist()', () => {
    const t = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(new Tensor(Int32Array.from([1, 2, 3, 4]), [2, 1, 2]).toArray()).toEqual([[[1, 2]], [[3, 4]]]);
    expect(new Tensor(Float32Array.from([7]), []).toArray()).toBe(7);
    expect(new Tensor(new Float32Array(3), [3]).toArray()).toEqual([0, 0, 0]);
  });

  test('zero-size dimensions', () => {
    expect(Tensor.zeros([2, 0]).toArray()).toEqual([[], []]);
    expect(Tensor.zeros([0, 3]).toArray()).toEqual([]);
    expect(Tensor.zeros([2, 0, 3]).toArray()).toEqual([[], []]);
    expect(Tensor.zeros([2, 1, 0]).toArray()).toEqual([[[]], [[]]]);
  });

  test('round trip: Tensor.from(t.toArray()) has t\'s shape and bits', () => {
    const data = Float32Array.from([0.1, -0, NaN, 3e38, -1e-45, 5, 6, 7, 8, 9, 10, 11]);
    for (const shape of [[12], [3, 4], [2, 3, 2], [1, 12, 1]]) {
      const t = new Tensor(data, shape);
      const back = Tensor.from(t.toArray());
      expect(back.shape).toEqual(shape);
      expect(new Uint32Array(back.data.buffer)).toEqual(new Uint32Array(data.buffer));
    }
  });

  test('values are plain numbers, not views of the tensor', () => {
    const t = Tensor.from([[1, 2]]);
    const a = t.toArray() as number[][];
    a[0][0] = 9;
    expect(t.data[0]).toBe(1);
  });
});
