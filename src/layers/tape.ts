// What a training forward hands to backward. Each layer kind keeps its own record in a subclass;
// the base carries what every backward checks: which layer made it, and whether it was used.
import type { Backend, BackendLayer, Workspace } from '../backend/types';
import { shown, typeError } from '../errors';

export class Tape {
  /** Set by backward; a tape is good for one backward only. */
  used = false;

  /** @internal */
  constructor(/** @internal */ readonly owner: object) {}

  /**
   * Checks that `tape` is an unused tape of the right kind from `owner`'s forward (the caller marks
   * it used once its other arguments pass). Every rejection is a TypeError naming what was given.
   * @internal
   */
  static check<T extends Tape>(where: string, tape: unknown, owner: object, ownerName: string, kind: new (...a: never[]) => T): T {
    if (!(tape instanceof kind)) {
      throw typeError(where, 'tape', 'the Tape of a forward with training: true or tape: true', tape);
    }
    if (tape.owner !== owner) {
      throw typeError(where, 'tape', `a Tape from this ${ownerName}'s forward`, shown('a Tape from another layer'));
    }
    if (tape.used) {
      throw typeError(where, 'tape', 'a Tape not yet used (each serves one backward)', shown('a Tape already used'));
    }
    return tape;
  }
}

/**
 * The masks one training forward drew (SPEC §3a), so that backward, and anyone checking it, sees
 * exactly what the forward computed with. Per-direction lists are indexed by s = k·D + d (layer k,
 * direction d); an entry is undefined where its variant is off.
 */
export interface RecurrentMasks {
  /** Inter-layer dropout on the output of layer k (k < numLayers − 1): [T, B, D·Hout], 0 or 1/(1 − p). */
  dropout: Float32Array[];
  /** Zoneout of h: [T, B, Hout] by time step, 1 where the step keeps the previous state. */
  zoneoutHidden: (Uint8Array | undefined)[];
  /** Zoneout of c (LSTM): [T, B, H], likewise. */
  zoneoutCell: (Uint8Array | undefined)[];
  /** Recurrent dropout: [B, Hout], 0 or 1/(1 − p), on the state entering the recurrent product. */
  recurrent: (Float32Array | undefined)[];
  /** DropConnect: [G·H, Hout] like weight_hh, 0 or 1/(1 − p). */
  weight: (Float32Array | undefined)[];
}

/** A recurrent layer's record: the backend and prepared layers it ran with, one workspace per layer direction, the masks. */
export class RecurrentTape extends Tape {
  /** @internal */
  constructor(
    owner: object,
    /** @internal */ readonly backend: Backend,
    readonly T: number,
    readonly B: number,
    /** @internal */ readonly layers: readonly BackendLayer[],
    /** @internal */ readonly workspaces: Workspace[],
    /** What the forward drew; all empty for a tape of the evaluation-mode function (tape: true). */
    readonly masks: RecurrentMasks,
  ) {
    super(owner);
  }

  /** Masks applied to the output of layer k (k < numLayers − 1), already scaled by 1/(1 − p). */
  get dropoutMasks(): Float32Array[] {
    return this.masks.dropout;
  }
}
