// What every peer runtime gets from the runner and gives back. A peer is set up once per shape
// from cellscan's own weights and input, checks its forward against cellscan's before anything is
// timed, and hands back a Subject to time.
import * as fs from 'fs';
import * as path from 'path';
import type { Subject } from '../measure';
import type { Shape } from '../shapes';
import type { RecurrentWeights } from '../weights';

/** One shape as cellscan computed it: the peer must reproduce `output` and `hN` from `weights` and `x`. */
export interface PeerCase {
  shape: Shape;
  weights: RecurrentWeights;
  /** Time-major input [T, B, I]. */
  x: Float32Array;
  /** cellscan's forward on that input: output [T, B, D*H], hN [D, B, H]. */
  output: Float32Array;
  hN: Float32Array;
  threads: number;
}

/** When a peer cannot compute a shape's default math, the cellscan variant it can match exactly. */
export interface PeerVariant {
  /** GRU: the peer computes Cho et al.'s GRU (ONNX linear_before_reset = 0, Keras reset_after = false). */
  linearBeforeReset: false;
  /** Why, in a sentence for the report. */
  why: string;
}

export interface PeerSubject extends Subject {
  /** Set when the peer has no training step: why. */
  trainSkipped?: string;
  /** Asked after the forward was timed: a reason to skip the training step (too slow for the budget), or undefined. */
  trainGate?(): string | undefined;
  /** Frees the peer's model and threads once its shape is measured. */
  release(): void | Promise<void>;
}

export interface Peer {
  /** Short name for --peers and table rows. */
  name: string;
  /** Package and version, execution settings: one line for the report. */
  describe(): string;
  /** Threads the peer computes on (may differ from what was asked; describe() says why). */
  threads: number;
  /** undefined: the peer matches cellscan's default math for this shape. */
  variantFor(shape: Shape): PeerVariant | undefined;
  /** Builds the peer's model, checks its forward against the case, returns what to time. Throws PeerMismatch. */
  prepare(c: PeerCase, o: { trainBudgetMs: number }): Promise<PeerSubject>;
}

/** A peer's forward disagreed with cellscan's: that peer is not timed on that shape. */
export class PeerMismatch extends Error {
  override name = 'PeerMismatch';
}

/** The version field of an installed package's package.json, found by walking up from its entry point. */
export function installedVersion(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return json.version ?? '?';
    }
    const up = path.dirname(dir);
    if (up === dir) return '?';
    dir = up;
  }
}
