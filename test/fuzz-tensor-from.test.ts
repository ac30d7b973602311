// Tensor.from on generated input: a rectangular nesting of numbers comes back from toArray as it
// went in (rounded to float32); anything else is a TypeError or RangeError naming values or shape.
import fc from 'fast-check';
import { Tensor } from '../src';
import { expectArgumentError, runs } from './helpers/fuzz';

/** A rectangular nesting of `shape` filled from `flat`, row-major. */
function nestOf(flat: number[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nestOf(flat.slice(i * size, (i + 1) * size), rest));
}

const rectangular = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.array(fc.double(), { minLength: n, maxLength: n }).map((flat) => ({ shape, flat }));
});

/** JSON-like values: mostly arrays of numbers and arrays, some of other things at any depth. */
const leaf = fc.oneof(fc.double(), fc.double(), fc.constantFrom<unknown>('1', null, undefined, true, {}, 2n));
const { tree } = fc.letrec<{ tree: unknown }>((rec) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(rec('tree'), { maxLength: 3 })),
}));

describe('Tensor.from on generated input', () => {
  test('a rectangular nesting round-trips through toArray, values rounded to float32', () => {
    fc.assert(
      fc.property(rectangular, ({ shape, flat }) => {
        const t = Tensor.from(nestOf(flat, shape) as never);
        // An empty array says nothing of the dimensions inside it (nor does torch.tensor([])).
        const zero = shape.indexOf(0);
        expect(t.shape).toEqual(zero < 0 ? shape : shape.slice(0, zero + 1));
        expect(t.toArray()).toEqual(nestOf(flat.map(Math.fround), shape));
      }),
      runs(200),
    );
  });

  test('anything else is refused naming values, or read as a rectangle of numbers', () => {
    fc.assert(
      fc.property(tree, (v) => {
        let t: Tensor | undefined;
        try {
          t = Tensor.from(v as never);
        } catch (e) {
          expectArgumentError(e, 'Tensor.from', ['values']);
          return;
        }
        const f32 = (x: unknown): unknown => (Array.isArray(x) ? x.map(f32) : Math.fround(x as number));
        expect(t.toArray()).toEqual(f32(v));
      }),
      runs(400),
    );
  });

  test('a shape argument is taken exactly when it holds as many elements, else refused naming shape', () => {
    const shapes = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), shapes, (n, shape) => {
        const values = Array.from({ length: n }, (_, i) => i);
        const size = shape.reduce((a, b) => a * b, 1);
        if (size === n) {
          expect(Tensor.from(values, shape).shape).toEqual(shape);
        } else {
          let thrown: unknown;
          try {
            Tensor.from(values, shape);
          } catch (e) {
            thrown = e;
          }
          expectArgumentError(thrown, 'Tensor.from', ['shape']);
        }
      }),
      runs(200),
    );
  });
});
