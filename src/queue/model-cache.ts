// A worker's models, rebuilt once each from their blob and kept by content hash, so one worker
// serves any number of models and pays the rebuild (and the backend's weight packing) once per model.
import { UnrecoverableError } from 'bullmq';
import type { LayerShape } from '../serve/request';
import { layerShape } from '../serve/request';
import type { BlobStore } from './blob-store';
import { decodeModel, type Layer } from './model-blob';

export interface CachedModel {
  layer: Layer;
  shape: LayerShape;
}

export class ModelCache {
  private readonly models = new Map<string, Promise<CachedModel>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly capacity = 8,
  ) {}

  get(hash: string): Promise<CachedModel> {
    let m = this.models.get(hash);
    if (m) {
      // Most recently used last: Map keeps insertion order, so the first key is the one to drop.
      this.models.delete(hash);
    } else {
      m = this.load(hash);
      // A failed load is not kept: the next job asks Redis again.
      m.catch(() => this.models.delete(hash));
    }
    this.models.set(hash, m);
    while (this.models.size > this.capacity) this.models.delete(this.models.keys().next().value!);
    return m;
  }

  private async load(hash: string): Promise<CachedModel> {
    const bytes = await this.blobs.get(hash);
    // Its run is over or Redis lost it: trying again cannot help.
    if (bytes === null) throw new UnrecoverableError(`model ${hash.slice(0, 12)} is not in Redis (its run ended, or Redis lost it)`);
    let layer: Layer;
    try {
      layer = decodeModel(bytes);
    } catch (e) {
      throw new UnrecoverableError(`model ${hash.slice(0, 12)} cannot be rebuilt: ${(e as Error).message}`);
    }
    return { layer, shape: layerShape(layer) };
  }
}
