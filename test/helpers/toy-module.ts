// A stand-in for a layer in optimizer tests: named parameters of given shapes and values, and
// gradients the test sets, so every update can be computed by hand.
import { Tensor } from '../../src';

export interface ToyModule {
  params: Tensor[];
  grads: Tensor[];
  parameters(): Map<string, Tensor>;
  gradients(): Map<string, Tensor>;
  zeroGrad(): void;
  parametersChanged(): void;
}

/** One parameter per entry: [shape, values]; gradients start at zero. */
export function toyModule(entries: [number[], number[]][]): ToyModule {
  const params = entries.map(([shape, values]) => new Tensor(Float32Array.from(values), shape));
  const grads = params.map((p) => Tensor.zeros(p.shape));
  const names = params.map((_, i) => `p${i}`);
  return {
    params,
    grads,
    parameters: () => new Map(names.map((n, i) => [n, params[i]])),
    gradients: () => new Map(names.map((n, i) => [n, grads[i]])),
    zeroGrad: () => grads.forEach((g) => g.data.fill(0)),
    parametersChanged: () => undefined,
  };
}
