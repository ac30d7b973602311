// What a training forward hands to backward. To its user a tape is an opaque token: SPEC §5 names
// only the ways to misuse one (used twice, from another layer, from a forward without a tape). To
// the layer that made it, it is a record of what its backward needs. The record sits in a WeakMap
// keyed by the token, not in properties, so nothing of it can be read or changed from outside (a
// tape whose masks or workspaces were edited would make backward disagree with its forward), and
// it goes away with the tape. One map lookup per backward costs nothing next to the backward.
import type { Backend, BackendLayer, Workspace } from '../backend/types';
import { shown, typeError } from '../errors';

interface TapeEntry {
  owner: object;
  used: boolean;
  record: unknown;
}

const entries = new WeakMap<Tape, TapeEntry>();

/** A token from a forward with training: true or tape: true, good for one backward of the same layer. */
export class Tape {}

type TapeKind<T extends Tape> = new () => T;

/** A new tape of `kind` from `owner`'s forward, holding `record` for its backward. */
export function issueTape<T extends Tape, R>(kind: TapeKind<T>, owner: object, record: R): T {
  const tape = new kind();
  entries.set(tape, { owner, used: false, record });
  return tape;
}

/** A tape's record, for the layer that made it (and for tests that check what it kept). */
export function tapeRecord<R>(tape: Tape): R {
  const entry = entries.get(tape);
  if (!entry) throw new TypeError('tapeRecord: not a tape made by a forward');
  return entry.record as R;
}

/** An opened tape: its record, and the mark the caller sets once its other arguments pass. */
export interface OpenedTape<R> {
  record: R;
  markUsed(): void;
}

/**
 * Checks that `tape` is an unused tape of `kind` from `owner`'s forward. Every rejection is a
 * TypeError naming what was given.
 */
export function openTape<R>(where: string, tape: unknown, owner: object, ownerName: string, kind: TapeKind<Tape>): OpenedTape<R> {
  const entry = tape instanceof kind ? entries.get(tape) : undefined;
  if (!entry) {
    throw typeError(where, 'tape', 'the Tape of a forward with training: true or tape: true', tape);
  }
  if (entry.owner !== owner) {
    throw typeError(where, 'tape', `a Tape from this ${ownerName}'s forward`, shown('a Tape from another layer'));
  }
  if (entry.used) {
    throw typeError(where, 'tape', 'a Tape not yet used (each serves one backward)', shown('a Tape already used'));
  }
  return {
    record: entry.record as R,
    markUsed: () => {
      entry.used = true;
    },
  };
}

/**
 * The masks one training forward drew (SPEC §3a), so that backward sees exactly what the forward
 * computed with. Per-direction lists are indexed by s = k·D + d (layer k, direction d); an entry is
 * undefined where its variant is off.
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

/** A recurrent layer's tape. */
export class RecurrentTape extends Tape {}

/** What a recurrent layer's backward reads from its forward. */
export interface RecurrentTapeRecord {
  backend: Backend;
  T: number;
  B: number;
  /** The prepared layers the forward ran, one per layer direction. */
  layers: readonly BackendLayer[];
  workspaces: Workspace[];
  /** What the forward drew; all empty for a tape of the evaluation-mode function (tape: true). */
  masks: RecurrentMasks;
}

/** The masks a recurrent tape's forward drew (tests compare them across backends and runs). */
export function tapeMasks(tape: Tape): RecurrentMasks {
  return tapeRecord<RecurrentTapeRecord>(tape).masks;
}
