import { describe, rangeError, shapeText, shown, typeError } from './errors';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array;

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
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw rangeError(where, `shape[${i}]`, 'a non-negative integer', d);
    }
  }
  return shape.slice();
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
    const s = checkShape('Tensor.zeros', shape);
    const n = numel(s);
    let data: TensorData;
    try {
      data = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    } catch {
      // V8's own message ("Invalid typed array length", "Array buffer allocation failed") names no argument.
      throw rangeError('Tensor.zeros', 'shape', 'a shape whose elements can be allocated', shown(`shape ${shapeText(s)} (${n} elements)`));
    }
    return new Tensor(data, s);
  }

  get size(): number {
    return this.data.length;
  }

  /** A tensor over a copy of the data. */
  clone(): Tensor {
    return new Tensor(this.data.slice() as TensorData, this.shape);
  }
}
