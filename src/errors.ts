// Every user-facing check goes through these helpers so that messages share one form:
// "<where>: <argument> must be <expected>, got <given>".

/** A description already worded for a message (e.g. "shape [2, 3]"), shown as it is. */
export class Shown {
  constructor(readonly text: string) {}
}
export function shown(text: string): Shown {
  return new Shown(text);
}

/**
 * A short, printable rendering of a value for error messages. Nested arrays are shown two levels
 * deep: a hostile file's JSON may nest 100,000 levels, which a full walk would answer with V8's
 * stack overflow instead of the message.
 */
const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

export function describe(value: unknown, depth = 0): string {
  if (value instanceof Shown) return value.text;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (ArrayBuffer.isView(value)) {
    const len = (value as unknown as { length?: number }).length;
    return `${value.constructor.name}(${len ?? value.byteLength})`;
  }
  if (Array.isArray(value)) {
    if (depth >= 2) return value.length ? '[…]' : '[]';
    const shown = value.slice(0, 8).map((v) => describe(v, depth + 1)).join(', ');
    return `[${shown}${value.length > 8 ? ', …' : ''}]`;
  }
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  const t = value as { shape?: unknown; dtype?: unknown };
  if (Array.isArray(t.shape) && typeof t.dtype === 'string') {
    return `${article(t.dtype)} ${t.dtype} Tensor of shape ${shapeText(t.shape)}`;
  }
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `${article(ctor)} ${ctor}` : 'an object';
}

export function rangeError(where: string, arg: string, expected: string, given: unknown): RangeError {
  return new RangeError(`${where}: ${arg} must be ${expected}, got ${describe(given)}`);
}

export function typeError(where: string, arg: string, expected: string, given: unknown): TypeError {
  return new TypeError(`${where}: ${arg} must be ${expected}, got ${describe(given)}`);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

export function checkPositiveInteger(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(where, arg, 'a positive integer', v);
  if (!isPositiveInteger(v)) throw rangeError(where, arg, 'a positive integer', v);
  return v;
}

export function checkBoolean(where: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw typeError(where, arg, 'a boolean', v);
  return v;
}
