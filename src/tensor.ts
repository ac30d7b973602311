import { types } from 'util';
import { describe, rangeError, shapeText, shown, typeError } from './errors';
import { leafPath, leafRows, nest, nestedShape, type NestedNumbers } from './tensor-nested';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array;
export type { NestedNumbers } from './tensor-nested';
/** The typed arrays whose elements are JavaScript numbers (not the BigInt ones). */
export type NumberTypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

const INT32_RANGE = 'an integer in the int32 range [-2147483648, 2147483647]';
const isInt32 = (x: number) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;

// Only two dtypes exist: anything else (a "float64" meant as a request) would silently be float32.
function checkDType(where: string, dtype: unknown): void {
  if (dtype !== 'float32' && dtype !== 'int32') throw rangeError(where, 'dtype', '"float32" or "int32"', dtype);
}

/** A zero-filled array of `n` elements, or the error naming the shape that asked for it. */
function allocate(where: string, dtype: DType, n: number, shape: readonly number[]): TensorData {
  try {
    return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  } catch {
    // V8's own message ("Invalid typed array length", "Array buffer allocation failed") names no argument.
    throw rangeError(where, 'shape', 'a shape whose elements can be allocated', shown(`shape ${shapeText(shape)} (${n} elements)`));
  }
}

/** Data and shape (row-major, as given) of Tensor.from's `values`, checked and copied. */
function dataOf(where: string, values: unknown, dtype: DType): { data: TensorData; shape: number[] } {
  if (typeof values === 'number') {
    if (dtype === 'int32' && !isInt32(values)) throw rangeError(where, 'values', INT32_RANGE, values);
    return { data: dtype === 'int32' ? Int32Array.of(values) : Float32Array.of(values), shape: [] };
  }
  if (types.isTypedArray(values) && !types.isBigInt64Array(values) && !types.isBigUint64Array(values)) {
    const typed = values as NumberTypedArray;
    if (dtype === 'int32') {
      for (let i = 0; i < typed.length; i++) {
        if (!isInt32(typed[i])) throw rangeError(where, `values[${i}]`, INT32_RANGE, typed[i]);
      }
      return { data: new Int32Array(typed), shape: [typed.length] };
    }
    return { data: new Float32Array(typed), shape: [typed.length] };
  }
  if (!Array.isArray(values)) {
    throw typeError(where, 'values', 'a number, a (nested) array of numbers or a typed array', values);
  }
  const shape = nestedShape(where, values);
  const rows = leafRows(where, values, shape);
  const width = shape[shape.length - 1];
  const data = allocate(where, dtype, rows.length * width, shape);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let j = 0; j < width; j++) {
      const x = row[j];
      if (typeof x !== 'number') throw typeError(where, leafPath(shape, r, j), 'a number', x);
      if (dtype === 'int32' && !isInt32(x)) throw rangeError(where, leafPath(shape, r, j), INT32_RANGE, x);
      data[k++] = x;
    }
  }
  return { data, shape };
}

/** Number of elements of a shape; the shape must already be validated. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw typeError(where, 'shape', 'an array of non-negative integers', shape);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number') throw typeError(where, `shape[${i}]`, 'a non-negative integer', d);
    if (!Number.isInteger(d) || d < 0) throw rangeError(where, `shape[${i}]`, 'a non-negative integer', d);
  }
  return shape.slice();
}

/**
 * A parameter tensor's array, kept apart from its `data` accessor (layers/module.ts), which marks
 * the array as handed out: the Tensor's own methods and the library's readers (optimizers,
 * exportONNX, the queue's model blob) read through elementsOf and so hand nothing out.
 */
const ownArrays = new WeakMap<Tensor, TensorData>();

/** Registers `array` as what `t.data` returns, for elementsOf to read without the accessor. */
export function keepOwnArray(t: Tensor, array: TensorData): void {
  ownArrays.set(t, array);
}

/** A tensor's array, without handing out a parameter's. */
export function elementsOf(t: Tensor): TensorData {
  return ownArrays.get(t) ?? t.data;
}

/** Dense row-major tensor: float32 for activations and parameters, int32 for ids and lengths. */
export class Tensor {
  readonly data: TensorData;
  readonly shape: readonly number[];
  readonly dtype: DType;

  constructor(data: TensorData, shape: readonly number[]) {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw typeError('Tensor', 'data', 'a Float32Array or Int32Array', data);
    }
    const s = checkShape('Tensor', shape);
    const n = numel(s);
    if (n !== data.length) {
      throw new RangeError(
        `Tensor: shape ${shapeText(s)} holds ${n} elements but data has ${data.length} (${describe(data)})`,
      );
    }
    this.data = data;
    this.shape = Object.freeze(s);
    this.dtype = data instanceof Float32Array ? 'float32' : 'int32';
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    checkDType('Tensor.zeros', dtype);
    const s = checkShape('Tensor.zeros', shape);
    return new Tensor(allocate('Tensor.zeros', dtype, numel(s), s), s);
  }

  /**
   * A tensor over a copy of `values`: a number (shape []), a nested array of numbers (its shape
   * read from the nesting, which must be rectangular) or a typed array (shape [length]). A given
   * `shape` reshapes those elements, row-major, and must hold exactly as many. The dtype is
   * int32 for an Int32Array and float32 otherwise unless `dtype` says; int32 takes integers only.
   */
  static from(values: NestedNumbers | NumberTypedArray, shape?: readonly number[], dtype?: DType): Tensor {
    const where = 'Tensor.from';
    if (dtype !== undefined) checkDType(where, dtype);
    const kind = dtype ?? (types.isInt32Array(values) ? 'int32' : 'float32');
    const { data, shape: own } = dataOf(where, values, kind);
    if (shape === undefined) return new Tensor(data, own);
    const s = checkShape(where, shape);
    if (numel(s) !== data.length) {
      throw rangeError(where, 'shape', `a shape of ${data.length} elements (as many as values holds)`, shown(`${shapeText(s)} (${numel(s)} elements)`));
    }
    return new Tensor(data, s);
  }

  get size(): number {
    return elementsOf(this).length;
  }

  /** The elements as nested JavaScript arrays of the tensor's shape (a bare number for shape []), as PyTorch's tolist(). */
  toArray(): NestedNumbers {
    return nest(elementsOf(this), this.shape);
  }

  /** A tensor over a copy of the data. */
  clone(): Tensor {
    return new Tensor(elementsOf(this).slice() as TensorData, this.shape);
  }
}
