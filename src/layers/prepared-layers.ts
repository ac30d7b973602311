// The backend layers a module prepared (copied, packed) from its weights, kept for the calls that
// follow and built again when they would compute with old weights: after parametersChanged(), after
// an in-place write the watch sees without it, or on another backend.
import type { Backend, BackendLayer } from '../backend/types';
import { LayerSet } from './layer-set';
import { WeightWatch } from './weight-watch';

export class PreparedLayers {
  private set?: LayerSet;
  private readonly watch = new WeightWatch();

  /** A parameter array has left the module: calls check it from now on. */
  watchArray(array: Float32Array): void {
    this.watch.watch(array);
  }

  /** The layers for `backend`, from `build` if there are none that match the weights as they are now. */
  layersFor(backend: Backend, build: () => BackendLayer[]): LayerSet {
    if (this.set && (this.set.backend !== backend || this.watch.changed())) this.invalidate();
    if (!this.set) {
      this.set = new LayerSet(backend, build());
      this.watch.given();
    }
    return this.set;
  }

  /** The weights changed: no new call uses the layers built before. */
  invalidate(): void {
    this.set?.retire();
    this.set = undefined;
  }
}
