// What the main thread and the wasm worker threads say to each other. Arrays travel as views of
// SharedArrayBuffers (from wasm-stash.ts: posting one shares its memory and copies nothing), so a
// message is a few numbers and handles however large the call; each thread reads and writes only
// the rows of its piece.
import type { CheckedForward } from './wasm-args';
import type { RowsBackward, RowsWorkspace } from './wasm-packed-layer';
import type { RowRange } from './wasm-rows';
import type { LayerSpec } from './types';

/** Raised whenever a message changes shape, so a worker script built from older sources is refused, not misread. */
export const WORKER_PROTOCOL = 3;

/** What a worker needs to build a layer: its spec and its parameters in the compact layout (paramSlots). */
export interface LayerImage {
  id: number;
  spec: LayerSpec;
  params: Float32Array;
}

/** Which layer a job runs; `load` when the worker does not hold it yet (the pool adds it). */
interface LayerJob {
  where: string;
  layer: number;
  load?: LayerImage;
}

/**
 * Forward of runs of rows of the call (a training call's groups, one after another, or one slice),
 * reading and writing args' arrays, which span the whole call. `workspaces`: a buffer lent for each
 * range's workspace, used when its size is right (the main thread learns the sizes from answers).
 */
export interface ForwardJob extends LayerJob {
  kind: 'forward';
  args: CheckedForward;
  ranges: RowRange[];
  workspaces?: (Uint8Array | undefined)[];
}

/**
 * One per range when training: null where the lent buffer holds the workspace (a buffer that came
 * back through a message is another object over the same memory, so the main thread keeps its own).
 */
export type ForwardAnswer = (Uint8Array | null)[] | undefined;

/**
 * Backward of some groups, in order. fold: `partials` is one block that ends up holding their
 * gradients summed in order; otherwise group i's gradients go to block `first + i` of `partials`.
 */
export interface BackwardJob extends LayerJob {
  kind: 'backward';
  args: RowsBackward;
  B: number;
  groups: { range: RowRange; workspace: RowsWorkspace }[];
  partials: Float32Array;
  length: number;
  first: number;
  fold: boolean;
}

/** out[start, end) = the `count` blocks of `length` floats in partials summed in order (wasm-gradient-sum.ts). */
export interface SumJob {
  kind: 'sum';
  out: Float32Array;
  partials: Float32Array;
  count: number;
  length: number;
  start: number;
  end: number;
}

export type Job = ForwardJob | BackwardJob | SumJob;

/** A layer the main thread no longer needs; no reply. */
export interface DropMessage {
  kind: 'drop';
  layer: number;
}

export type ToWorker = (Job & { id: number }) | DropMessage;

export interface SerializedError {
  name: string;
  message: string;
}

export type FromWorker = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: 'Error', message: String(e) };
}

/** The error as the synchronous path would have thrown it: same class (for the ones callers test), same message. */
export function deserializeError(e: SerializedError): Error {
  switch (e.name) {
    case 'TypeError':
      return new TypeError(e.message);
    case 'RangeError':
      return new RangeError(e.message);
    case 'RuntimeError': {
      const wasm = (globalThis as { WebAssembly?: { RuntimeError?: new (m: string) => Error } }).WebAssembly;
      if (wasm?.RuntimeError) return new wasm.RuntimeError(e.message);
      break;
    }
  }
  const error = new Error(e.message);
  if (e.name !== 'Error') error.name = e.name;
  return error;
}
