// Nested JavaScript arrays of numbers <-> flat row-major data, for Tensor.from and Tensor.toArray.
// Both directions go level by level instead of recursing: a nesting thousands of levels deep (a
// hostile or generated input) then costs memory in proportion to its size, never V8's call stack.
import { rangeError, shown, typeError } from './errors';

export type NestedNumbers = number | NestedNumbers[];

/** "values[i][j]…" for the item at flat index `flat` over the first `depth` dimensions of `shape`. */
function pathOf(shape: readonly number[], depth: number, flat: number): string {
  const index: number[] = [];
  for (let d = depth - 1; d >= 0; d--) {
    index.push(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `values${index.reverse().map((i) => `[${i}]`).join('')}`;
}

/**
 * The shape a nested array claims through its first elements (PyTorch infers it the same way);
 * leafRows checks that every other element agrees. An array met twice on the way contains itself.
 */
export function nestedShape(where: string, values: unknown[]): number[] {
  const shape: number[] = [];
  const seen = new Set<unknown>();
  let v: unknown = values;
  while (Array.isArray(v)) {
    if (seen.has(v)) {
      throw typeError(where, pathOf(new Array(shape.length).fill(1), shape.length, 0), 'a nested array of numbers', shown('an array that contains itself'));
    }
    seen.add(v);
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/**
 * The innermost arrays of `values` (rows of shape[rank - 1] numbers, or the one row `values` for
 * rank 1), after checking that every level is an array of its dimension's length. Nothing is
 * allocated for the data before this passes, so a first row that claims a huge shape cannot
 * make the caller allocate for elements that do not exist.
 */
export function leafRows(where: string, values: unknown[], shape: readonly number[]): unknown[][] {
  let level: unknown[] = [values];
  for (let d = 0; d < shape.length; d++) {
    const inner = d + 1 < shape.length ? 'arrays' : 'numbers';
    const expected = `an array of ${shape[d]} ${inner} (a nested array must be rectangular)`;
    const next: unknown[] = [];
    for (let a = 0; a < level.length; a++) {
      const item = level[a];
      if (!Array.isArray(item)) throw typeError(where, pathOf(shape, d, a), expected, item);
      if (item.length !== shape[d]) throw rangeError(where, pathOf(shape, d, a), expected, item);
      if (d + 1 < shape.length) for (const child of item) next.push(child);
    }
    if (d + 1 === shape.length) return level as unknown[][];
    level = next;
  }
  return [];
}

/** The number at `row[j]` of leaf row `r`, or the error naming where it sits. */
export function leafPath(shape: readonly number[], r: number, j: number): string {
  return `${pathOf(shape, shape.length - 1, r)}[${j}]`;
}

/** Nested arrays of `shape` over row-major `data` (a bare number for shape []). */
export function nest(data: ArrayLike<number>, shape: readonly number[]): NestedNumbers {
  if (shape.length === 0) return data[0];
  // groups[d]: how many arrays of shape[d] items level d has (the product of the dims before it).
  const groups = [1];
  for (let d = 0; d < shape.length - 1; d++) groups.push(groups[d] * shape[d]);
  let level: NestedNumbers[] = Array.from(data);
  for (let d = shape.length - 1; d >= 1; d--) {
    const n = shape[d];
    const next: NestedNumbers[] = new Array(groups[d]);
    for (let g = 0; g < groups[d]; g++) next[g] = level.slice(g * n, g * n + n);
    level = next;
  }
  return level;
}
