// A module whose calls run on backend layers prepared from its weights (the recurrent layers and
// cells): it drops them when told the weights changed, and watches every parameter array it hands
// out for edits it is not told of.
import { Module } from './module';
import { PreparedLayers } from './prepared-layers';

export abstract class PreparedModule extends Module {
  protected readonly prepared = new PreparedLayers();

  protected onParametersChanged(): void {
    this.prepared.invalidate();
  }

  protected override onParameterExposed(array: Float32Array): void {
    this.prepared.watchArray(array);
  }
}
