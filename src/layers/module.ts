// Parameters, gradients and state dicts, shared by every layer with trainable tensors.
import { rangeError, shapeText, shown, typeError } from '../errors';
import { Tensor, elementsOf, keepOwnArray } from '../tensor';
import { checkOptionKeys } from './arguments';

export interface LoadStateDictOptions {
  /** Every parameter must be present and nothing else under the prefix (default true). */
  strict?: boolean;
  /** Only keys starting with this are read, with the prefix removed (default ''). */
  prefix?: string;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function quoteList(names: string[]): string {
  const shown = names.slice(0, 10).map((n) => JSON.stringify(n));
  return shown.join(', ') + (names.length > 10 ? `, … (${names.length} in all)` : '');
}

/**
 * A parameter's array without handing it out (any other tensor's data as it is), for the library's
 * own code: the optimizers (which announce their writes with parametersChanged) and exportONNX (which
 * only reads). Reading `data` instead would make every later call compare the array (weight-watch.ts).
 */
export function parameterArray(t: Tensor): Float32Array {
  return elementsOf(t) as Float32Array;
}

export abstract class Module {
  private readonly params = new Map<string, Tensor>();
  /** The parameters' arrays, for reads and writes of the module's own that hand nothing out. */
  private readonly paramArrays = new Map<string, Float32Array>();
  private readonly grads = new Map<string, Tensor>();

  protected constructor(protected readonly className: string) {}

  /**
   * A parameter's `data` becomes an accessor that tells onParameterExposed the first time the array
   * leaves the module: from then on anyone may hold it and write into it at any moment, which a
   * module keeping a packed copy must check for (prepared-layers.ts).
   */
  protected addParameter(name: string, value: Tensor): void {
    const array = value.data as Float32Array;
    let exposed = false;
    Object.defineProperty(value, 'data', {
      enumerable: true,
      get: () => {
        if (!exposed) {
          exposed = true;
          this.onParameterExposed(array);
        }
        return array;
      },
    });
    keepOwnArray(value, array);
    this.params.set(name, value);
    this.paramArrays.set(name, array);
    this.grads.set(name, Tensor.zeros(value.shape));
  }

  /** The first time a parameter's array is handed out (before the caller can write into it). */
  protected onParameterExposed(_array: Float32Array): void {}

  protected parameter(name: string): Tensor {
    return this.params.get(name)!;
  }

  /** A parameter's array, without handing it out. */
  protected parameterData(name: string): Float32Array {
    return this.paramArrays.get(name)!;
  }

  protected gradient(name: string): Tensor {
    return this.grads.get(name)!;
  }

  /** The live parameter tensors by name; mutate them in place, then call parametersChanged(). */
  parameters(): Map<string, Tensor> {
    return new Map(this.params);
  }

  /** Gradient tensors, same names and shapes as parameters(); backward adds into them. */
  gradients(): Map<string, Tensor> {
    return new Map(this.grads);
  }

  zeroGrad(): void {
    for (const g of this.grads.values()) g.data.fill(0);
  }

  /** Drops whatever the backends prepared from the old values (packed or copied weights). */
  parametersChanged(): void {
    this.onParametersChanged();
  }

  protected abstract onParametersChanged(): void;

  /** Copies of every parameter. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.params) out.set(name, new Tensor(this.paramArrays.get(name)!.slice(), t.shape));
    return out;
  }

  /** Copies values in (all or nothing: every check is made before anything is written). */
  loadStateDict(d: Map<string, Tensor> | Record<string, Tensor>, o: LoadStateDictOptions = {}): void {
    const where = `${this.className}.loadStateDict`;
    let entries: Iterable<[string, unknown]>;
    if (d instanceof Map) {
      entries = d.entries();
    } else if (d !== null && typeof d === 'object' && !Array.isArray(d) && !(d instanceof Tensor)) {
      entries = Object.entries(d);
    } else {
      throw typeError(where, 'd', 'a Map or object of Tensors', d);
    }
    // Unknown keys are refused: a misspelt "strict" would otherwise load strictly without a word.
    const options = checkOptionKeys(where, 'options', o, ['strict', 'prefix']);
    const strict = options.strict ?? true;
    if (typeof strict !== 'boolean') throw typeError(where, 'strict', 'a boolean', strict);
    const prefix = options.prefix ?? '';
    if (typeof prefix !== 'string') throw typeError(where, 'prefix', 'a string', prefix);

    const given = new Map<string, unknown>();
    for (const [key, value] of entries) {
      if (typeof key === 'string' && key.startsWith(prefix)) given.set(key.slice(prefix.length), value);
    }
    if (strict) {
      const missing = [...this.params.keys()].filter((n) => !given.has(n)).map((n) => prefix + n);
      if (missing.length) {
        throw new RangeError(`${where}: d must hold every parameter (strict), missing ${quoteList(missing)}`);
      }
      const unexpected = [...given.keys()].filter((n) => !this.params.has(n)).map((n) => prefix + n);
      if (unexpected.length) {
        throw new RangeError(
          `${where}: d must hold only this layer's parameters (strict), got unexpected ${quoteList(unexpected)}`,
        );
      }
    }
    const updates: [Float32Array, Tensor][] = [];
    for (const [name, param] of this.params) {
      if (!given.has(name)) continue;
      const v = given.get(name);
      const arg = `d[${JSON.stringify(prefix + name)}]`;
      if (!(v instanceof Tensor)) throw typeError(where, arg, 'a Tensor', v);
      if (v.dtype !== 'float32') throw typeError(where, arg, 'a float32 Tensor', shown(`an ${v.dtype} Tensor`));
      if (!sameShape(v.shape, param.shape)) {
        throw rangeError(where, arg, `of shape ${shapeText(param.shape)}`, shown(`shape ${shapeText(v.shape)}`));
      }
      updates.push([this.paramArrays.get(name)!, v]);
    }
    for (const [array, v] of updates) array.set(v.data);
    this.parametersChanged();
  }
}
