// The backend layers prepared from a module's weights, shared by the calls that use them. They are
// released (BackendLayer.release) as soon as they are stale (the weights or the backend changed) and
// no running call uses them, not at garbage collection: finalizers wait for the event loop, and a
// synchronous training loop, whose optimizer changes the weights every step, would hold every step's
// layers until it returns. Tapes need no count of their own: a backend keeps a layer's memory for as
// long as a workspace of its forwards is alive.
import type { Backend, BackendLayer } from '../backend/types';

export class LayerSet {
  private users = 0;
  private stale = false;

  constructor(
    readonly backend: Backend,
    readonly layers: BackendLayer[],
  ) {}

  /** A call starts using the layers; it calls done() when it has finished, thrown or not. */
  use(): this {
    this.users++;
    return this;
  }

  done(): void {
    this.users--;
    this.releaseIfUnused();
  }

  /** No new call will use the layers. */
  retire(): void {
    this.stale = true;
    this.releaseIfUnused();
  }

  private releaseIfUnused(): void {
    if (this.stale && this.users === 0) for (const layer of this.layers) layer.release();
  }
}
