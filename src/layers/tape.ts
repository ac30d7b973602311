// What a training forward hands to backward: the backend and prepared layers it ran with, one
// workspace per layer direction, and the dropout masks it drew.
import type { Backend, BackendLayer, Workspace } from '../backend/types';

export class Tape {
  /** Set by backward; a tape is good for one backward only. */
  used = false;

  /** @internal */
  constructor(
    /** @internal */ readonly owner: object,
    /** @internal */ readonly backend: Backend,
    readonly T: number,
    readonly B: number,
    /** @internal */ readonly layers: readonly BackendLayer[],
    /** @internal */ readonly workspaces: Workspace[],
    /** Masks applied to the output of layer k (k < numLayers − 1), already scaled by 1/(1 − p). */
    readonly dropoutMasks: Float32Array[],
  ) {}
}
