// One layer direction on the WebAssembly backend. Creating it checks the parameters and keeps a
// copy; each module instance that runs it (the main thread's for synchronous calls, each worker
// thread's for asynchronous ones) copies that in and packs it once. Synchronous calls run on the
// calling thread; asynchronous ones on the worker pool, cut along batch rows when they are large
// enough to gain from more than one thread. A training forward keeps one workspace per fixed group
// of rows (wasm-rows.ts), in shared memory, so its backward can run on any thread.
import { rangeError, shown, typeError } from '../errors';
import type { BackendLayer, BackwardArgs, ForwardArgs, LayerParams, LayerSpec, Workspace } from './types';
import {
  type CheckedBackward, type CheckedForward, readBackwardArgs, readForwardArgs, readParams, readSpec, requireObject,
} from './wasm-args';
import { forwardFlops, hasCellState, outputSize } from './layer-shape';
import { addGradients } from './wasm-gradient-sum';
import type { ForwardAnswer, LayerImage } from './wasm-messages';
import type { Kernels } from './wasm-module';
import { PackedLayer, type ParamSlot, type RowsBackward, type RowsWorkspace, paramSlots, variantsOf } from './wasm-packed-layer';
import type { WasmPool } from './wasm-pool';
import { type RowRange, evaluationSlices, piecesFor, spreadGroups, trainingGroups } from './wasm-rows';
import type { SharedStash } from './wasm-stash';

/** What the layers of one backend share: its worker threads and its shared memory. */
export interface WasmThreads {
  pool: WasmPool;
  stash: SharedStash;
}

type GroupWorkspace = RowsWorkspace & { range: RowRange };

interface WorkspaceState {
  owner: WasmLayer;
  T: number;
  B: number;
  groups: GroupWorkspace[];
  /** Backward calls reading it now; its memory goes back to the stash only once they are done. */
  readers: number;
  released: boolean;
}

// Only workspaces made by a forward here have a state, so a forged or foreign object is recognised.
const workspaceStates = new WeakMap<object, WorkspaceState>();

// A tape dropped without its backward (a forward with tape: true, say) still gives its memory back.
const workspaceHolds = new FinalizationRegistry<WorkspaceState>((state) => {
  if (state.released) return;
  state.released = true;
  state.owner.workspaceReleased(state);
});

class WasmWorkspace implements Workspace {
  get byteLength(): number {
    return workspaceStates.get(this)?.groups.reduce((n, g) => n + g.bytes.byteLength, 0) ?? 0;
  }

  /** Drops the copy now; a released workspace is no longer one backward accepts. */
  release(): void {
    const state = workspaceStates.get(this);
    workspaceStates.delete(this);
    if (!state) return;
    state.released = true;
    state.owner.workspaceReleased(state);
  }
}

/** What a layer holds outside the JavaScript heap, apart from the layer so a finalizer can free it after. */
interface LayerHold {
  threads: WasmThreads;
  image: LayerImage;
  /** The main thread's instance of the layer, made by the first synchronous call. */
  main?: PackedLayer;
  freed: boolean;
}

function freeHold(h: LayerHold): void {
  if (h.freed) return;
  h.freed = true;
  h.main?.free();
  h.threads.pool.drop(h.image.id);
  h.threads.stash.give(h.image.params.buffer);
}

const holds = new FinalizationRegistry<LayerHold>(freeHold);
let nextLayerId = 1;

/** Workspace bytes by layer shape, call shape and variants, learnt from forwards: a worker is lent a buffer of that size. */
const workspaceSizes = new Map<string, number>();

/** Bytes a main-thread copy moves before it lets the event loop run (a few ms, page faults included). */
const SLICE_BYTES = 1 << 20;

/** copy(r0, r1) over rows 0..rows in slices of about SLICE_BYTES, the event loop running between them. */
async function inSlices(rows: number, rowBytes: number, copy: (r0: number, r1: number) => void): Promise<void> {
  const per = Math.max(1, Math.floor(SLICE_BYTES / Math.max(1, rowBytes)));
  for (let r = 0; r < rows; r += per) {
    if (r > 0) await new Promise((resolve) => setImmediate(resolve));
    copy(r, Math.min(rows, r + per));
  }
}

/** Bytes in a page: touching one byte of each maps the page. */
const PAGE_BYTES = 4096;

/**
 * Writes one byte of each page of `arrays` back to itself, in inSlices' slices: done while the
 * workers compute, a fresh output's first touches (page faults, ~18 µs each on these VMs) overlap
 * the compute rather than follow it. A byte keeps every value's bits; only this thread writes the
 * caller's arrays (the workers write shared memory), and a shared one is left alone.
 */
async function touchPages(arrays: (ArrayBufferView | undefined)[]): Promise<void> {
  for (const a of arrays) {
    // A detached array is left to the copy-out, which reports it; detached meanwhile, the view
    // empties and the touches stop.
    if (!a || a.byteLength === 0 || a.buffer instanceof SharedArrayBuffer) continue;
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    await inSlices(Math.ceil(bytes.length / PAGE_BYTES), PAGE_BYTES, (p0, p1) => {
      for (let at = p0 * PAGE_BYTES; at < p1 * PAGE_BYTES && at < bytes.length; at += PAGE_BYTES) bytes[at] = bytes[at];
    });
  }
}

/** rows [r0, r1) of `width` floats, rows srcStride apart in src and dstStride apart in dst. */
function copyRows(dst: Float32Array, dstStride: number, src: Float32Array, srcStride: number, r0: number, r1: number, width: number): void {
  if (dstStride === width && srcStride === width) {
    dst.set(src.subarray(r0 * width, r1 * width), r0 * width);
    return;
  }
  for (let r = r0; r < r1; r++) dst.set(src.subarray(r * srcStride, r * srcStride + width), r * dstStride);
}

/** Every array still as long as it was when checked: a caller may detach one while the threads run. */
function checkIntact(where: string, list: [name: string, a: ArrayBufferView & { length: number } | undefined, length: number][],
  what = 'was written to it'): void {
  for (const [name, a, length] of list) {
    if (a && a.length < length) throw new Error(`${where}: ${name} was detached or resized while the call ran; nothing ${what}`);
  }
}

/** Waits for every job (none is left running into the caller's next call), then throws the first failure. */
async function allOf<T>(jobs: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(jobs);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

export class WasmLayer implements BackendLayer {
  private readonly spec: LayerSpec;
  private readonly specKey: string;
  private readonly slots: ParamSlot[];
  private readonly paramsLength: number;
  private readonly hold: LayerHold;
  /** Workspaces of training forwards not yet released: their backward needs this layer. */
  private liveWorkspaces = 0;
  /** Asynchronous calls under way: their jobs may still load the layer into a worker. */
  private inFlight = 0;
  private released = false;

  constructor(
    private readonly kernels: Kernels,
    private readonly threads: WasmThreads,
    specArg: unknown,
    paramsArg: unknown,
  ) {
    const where = 'new WasmLayer';
    this.spec = readSpec(where, specArg);
    const params = readParams(where, paramsArg, this.spec);
    const { slots, total } = paramSlots(this.spec);
    this.slots = slots;
    this.paramsLength = total;
    this.specKey = Object.values(this.spec).join();
    // A copy, as the layer is the weights at this moment; every instance that runs it packs its own from it.
    const data = threads.stash.floats(total);
    for (const s of slots) {
      const a = params[s.field]!;
      // Checked whole above, after every getter ran; yet under test:asan's preload the copy has now
      // and then (4 runs in about 50) found an array a getter detached, reading length 0 only by then. The
      // caller gets the check's own error, not V8's.
      try {
        data.set(a, s.offset);
      } catch (e) {
        if (a.length === s.length) throw e;
        throw rangeError(where, s.field, `a Float32Array of ${s.length} elements`, a);
      }
    }
    this.hold = { threads, image: { id: nextLayerId++, spec: this.spec, params: data }, freed: false };
    holds.register(this, this.hold);
  }

  /**
   * Frees the layer's memory now, or once the workspaces of its forwards are released (their
   * backward still runs), rather than at garbage collection: finalizers wait for the event loop, so
   * a synchronous training loop would otherwise hold every step's layers until it returns.
   */
  release(): void {
    this.released = true;
    this.freeIfUnused();
  }

  private freeIfUnused(): void {
    if (this.released && this.liveWorkspaces === 0 && this.inFlight === 0) freeHold(this.hold);
  }

  /** @internal */
  workspaceReleased(state: WorkspaceState): void {
    this.liveWorkspaces--;
    this.giveBackWorkspace(state);
    this.freeIfUnused();
  }

  private giveBackWorkspace(state: WorkspaceState): void {
    if (!state.released || state.readers > 0) return;
    for (const g of state.groups) this.threads.stash.give(g.bytes.buffer);
    state.groups = [];
  }

  /** The main thread's instance, packed on the first synchronous call. */
  private mainLayer(where: string): PackedLayer {
    if (!this.hold.main) {
      const { params } = this.hold.image;
      const arrays: Partial<LayerParams> = {};
      for (const s of this.slots) arrays[s.field] = params.subarray(s.offset, s.offset + s.length);
      this.hold.main = new PackedLayer(this.kernels, this.spec, arrays as LayerParams, where);
    }
    return this.hold.main;
  }

  private usable(where: string): void {
    if (this.released) throw new Error(`${where}: the layer was released; create a new one for new calls`);
  }

  private newWorkspace(T: number, B: number, groups: GroupWorkspace[]): Workspace {
    const workspace = new WasmWorkspace();
    const state: WorkspaceState = { owner: this, T, B, groups, readers: 0, released: false };
    workspaceStates.set(workspace, state);
    workspaceHolds.register(workspace, state);
    this.liveWorkspaces++;
    return workspace;
  }

  private workspaceKey(T: number, range: RowRange, variants: number): string {
    return `${this.specKey}|${T}|${range.rows}|${variants}`;
  }

  private stashedBytes(bytes: number): Uint8Array {
    return new Uint8Array(this.threads.stash.take(bytes), 0, bytes);
  }

  forward(args: ForwardArgs): Workspace | undefined {
    const where = 'WasmLayer.forward';
    this.usable(where);
    const a = readForwardArgs(where, args, this.spec);
    const layer = this.mainLayer(where);
    if (!a.training) {
      layer.forwardRows(where, a, { b0: 0, rows: a.B });
      return undefined;
    }
    const groups: GroupWorkspace[] = [];
    try {
      for (const range of trainingGroups(a.B)) groups.push({ ...layer.forwardRows(where, a, range, (n) => this.stashedBytes(n))!, range });
    } catch (e) {
      for (const g of groups) this.threads.stash.give(g.bytes.buffer);
      throw e;
    }
    return this.newWorkspace(a.T, a.B, groups);
  }

  async forwardAsync(args: ForwardArgs): Promise<Workspace | undefined> {
    const where = 'WasmLayer.forwardAsync';
    this.usable(where);
    const a = readForwardArgs(where, args, this.spec);
    this.inFlight++;
    try {
      return await this.forwardOnThreads(where, a);
    } finally {
      this.inFlight--;
      this.freeIfUnused();
    }
  }

  private async forwardOnThreads(where: string, a: CheckedForward): Promise<Workspace | undefined> {
    const { stash, pool } = this.threads;
    const { T, B } = a;
    const rows = T * B;
    const I = this.spec.inputSize;
    const hout = outputSize(this.spec);
    const H = this.spec.hiddenSize;
    // The call's arrays in shared memory, each thread reading and writing its rows there: inputs
    // copied (the caller's arrays are never handed over), outputs copied out at the end.
    const job: CheckedForward = {
      ...a,
      x: stash.floats(rows * I),
      h0: stash.copy(a.h0),
      c0: stash.copy(a.c0),
      lengths: stash.copy(a.lengths),
      recurrentMask: stash.copy(a.recurrentMask),
      zoneoutHiddenMask: stash.copy(a.zoneoutHiddenMask),
      zoneoutCellMask: stash.copy(a.zoneoutCellMask),
      y: stash.floats(rows * hout),
      yStride: hout,
      hN: stash.floats(B * hout),
      cN: hasCellState(this.spec.cell) ? stash.floats(B * H) : undefined,
    };
    let workspaces: Uint8Array[] = [];
    const lentAll: Uint8Array[] = [];
    const kept = new Set<Uint8Array>();
    try {
      await inSlices(rows, I * 4, (r0, r1) => {
        checkIntact(where, [['x', a.x, rows * I]], 'was computed');
        copyRows(job.x, I, a.x, I, r0, r1, I);
      });
      const pieces = piecesFor(forwardFlops(this.spec, T, B), pool.numThreads);
      const groups = a.training ? trainingGroups(B) : [];
      // A piece is a run of consecutive rows: a training call's groups spread over threads, or an evaluation's slice.
      const runs = a.training
        ? spreadGroups(groups, pieces).map(([first, end]) => groups.slice(first, end))
        : evaluationSlices(B, pieces, pool.numThreads).map((r) => [r]);
      const variants = a.training ? variantsOf(this.kernels, a) : 0;
      const lent = groups.map((r) => {
        const bytes = workspaceSizes.get(this.workspaceKey(T, r, variants));
        return bytes === undefined ? undefined : this.stashedBytes(bytes);
      });
      lentAll.push(...lent.filter((w) => w !== undefined));
      let first = 0;
      const computing = allOf(runs.map((ranges) => {
        const image = this.hold.image;
        const workspaces = a.training ? lent.slice(first, (first += ranges.length)) : undefined;
        return pool.run({ kind: 'forward', where, layer: image.id, args: job, ranges, workspaces }, image) as Promise<ForwardAnswer>;
      }));
      computing.catch(() => {}); // awaited below, once the pages are touched
      await touchPages([a.y, a.hN, a.cN]);
      const answers = await computing;
      if (a.training) {
        workspaces = answers.flatMap((w) => w!).map((w, i) => w ?? lent[i]!);
        groups.forEach((r, i) => {
          if (workspaceSizes.size > 256) workspaceSizes.clear();
          workspaceSizes.set(this.workspaceKey(T, r, variants), workspaces[i].byteLength);
        });
      }
      checkIntact(where, [['y', a.y, (rows - 1) * a.yStride + hout], ['hN', a.hN, B * hout], ['cN', a.cN, B * H]]);
      a.hN.set(job.hN);
      if (a.cN) a.cN.set(job.cN!);
      await inSlices(rows, hout * 4, (r0, r1) => {
        checkIntact(where, [['y', a.y, (rows - 1) * a.yStride + hout]], 'more was written to it');
        copyRows(a.y, a.yStride, job.y, hout, r0, r1, hout);
      });
      if (!a.training) return undefined;
      const state = groups.map((range, i): GroupWorkspace => ({ T, rows: range.rows, variants, bytes: workspaces[i], range }));
      for (const w of workspaces) kept.add(w);
      return this.newWorkspace(T, B, state);
    } finally {
      // Buffers lent and not kept by a workspace, and on failure every workspace made, go back.
      for (const w of new Set([...lentAll, ...workspaces])) if (!kept.has(w)) stash.give(w.buffer);
      for (const v of [job.x, job.h0, job.c0, job.lengths, job.recurrentMask, job.zoneoutHiddenMask, job.zoneoutCellMask, job.y, job.hN, job.cN]) {
        stash.give(v?.buffer);
      }
    }
  }

  private workspaceOf(where: string, v: unknown): WorkspaceState {
    const state = v !== null && typeof v === 'object' ? workspaceStates.get(v) : undefined;
    if (!state) throw typeError(where, 'workspace', 'a Workspace returned by forward with training: true', v);
    if (state.owner !== this) {
      throw new TypeError(`${where}: workspace must come from a forward of this layer, got one from another layer`);
    }
    return state;
  }

  private readBackward(where: string, args: unknown): { state: WorkspaceState; a: CheckedBackward } {
    const o = requireObject(where, 'arguments', args);
    const workspace = o.workspace;
    const state = this.workspaceOf(where, workspace);
    const a = readBackwardArgs(where, o, this.spec, state.T, state.B);
    // A getter among the other arguments may have released it meanwhile (its memory may be reused).
    if (state.released) {
      throw typeError(where, 'workspace', 'a Workspace returned by forward with training: true', shown('one released while the arguments were read'));
    }
    return { state, a };
  }

  backward(args: BackwardArgs): void {
    const where = 'WasmLayer.backward';
    const { state, a } = this.readBackward(where, args);
    const layer = this.mainLayer(where);
    const sum = this.threads.stash.floats(this.paramsLength);
    try {
      state.groups.forEach((g, i) => layer.backwardRows(where, g, a, state.B, g.range, sum, i > 0));
      addGradients(a.grads as unknown as Record<string, Float32Array>, sum, this.slots, 0, this.paramsLength);
    } finally {
      this.threads.stash.give(sum.buffer);
    }
  }

  async backwardAsync(args: BackwardArgs): Promise<void> {
    const where = 'WasmLayer.backwardAsync';
    const { state, a } = this.readBackward(where, args);
    state.readers++;
    this.inFlight++;
    try {
      await this.backwardOnThreads(where, state, a);
    } finally {
      state.readers--;
      this.inFlight--;
      this.giveBackWorkspace(state);
      this.freeIfUnused();
    }
  }

  private async backwardOnThreads(where: string, state: WorkspaceState, a: CheckedBackward): Promise<void> {
    const { stash, pool } = this.threads;
    const { T, B, groups } = state;
    const rows = T * B;
    const hout = outputSize(this.spec);
    const H = this.spec.hiddenSize;
    const I = this.spec.inputSize;
    const n = this.paramsLength;
    const job: RowsBackward = {
      dY: a.dY && stash.floats(rows * hout),
      dYStride: hout,
      dhN: stash.copy(a.dhN),
      dcN: stash.copy(a.dcN),
      dX: stash.floats(rows * I),
      dh0: stash.floats(B * hout),
      dc0: a.dc0 && stash.floats(B * H),
    };
    const sum = stash.floats(n);
    let partials: Float32Array | undefined;
    try {
      if (a.dY) {
        await inSlices(rows, hout * 4, (r0, r1) => {
          checkIntact(where, [['dY', a.dY, (rows - 1) * a.dYStride + hout]], 'was computed');
          copyRows(job.dY!, hout, a.dY!, a.dYStride, r0, r1, hout);
        });
      }
      // Backward costs about twice the forward.
      const runs = spreadGroups(groups.map((g) => g.range), piecesFor(2 * forwardFlops(this.spec, T, B), pool.numThreads));
      const image = this.hold.image;
      const backwardJob = (first: number, end: number, into: Float32Array, fold: boolean) => pool.run({
        kind: 'backward', where, layer: image.id, args: job, B, partials: into, length: n, first, fold,
        groups: groups.slice(first, end).map((g) => ({ range: g.range, workspace: g })),
      }, image);
      let computing: Promise<unknown>;
      if (runs.length === 1) {
        // One thread sums the groups as it goes, in order.
        computing = backwardJob(0, groups.length, sum, true);
      } else {
        // Each thread keeps its groups' gradients apart; then each thread sums a range of elements over all groups, in order.
        partials = stash.floats(groups.length * n);
        computing = allOf(runs.map(([first, end]) => backwardJob(first, end, partials!, false))).then(() => allOf(runs.map((_, i) => pool.run({
          kind: 'sum', out: sum, partials: partials!, count: groups.length, length: n,
          start: Math.floor((n * i) / runs.length), end: Math.floor((n * (i + 1)) / runs.length),
        }))));
      }
      computing.catch(() => {}); // awaited below, once the pages are touched
      const grads = a.grads as unknown as Record<string, Float32Array>;
      await touchPages([a.dX, a.dh0, a.dc0, ...this.slots.map((s) => grads[s.field])]);
      await computing;
      const outputs: [string, Float32Array | undefined, number][] = [
        ['dX', a.dX, rows * I], ['dh0', a.dh0, B * hout], ['dc0', a.dc0, B * H],
        ...this.slots.map((s): [string, Float32Array, number] => [`grads.${s.field}`, grads[s.field], s.length]),
      ];
      checkIntact(where, outputs);
      a.dh0.set(job.dh0);
      if (a.dc0) a.dc0.set(job.dc0!);
      await inSlices(rows, I * 4, (r0, r1) => {
        checkIntact(where, outputs, 'more was written to it');
        copyRows(a.dX, I, job.dX, I, r0, r1, I);
      });
      await inSlices(n, 4, (e0, e1) => {
        checkIntact(where, outputs, 'more was written to it');
        addGradients(grads, sum, this.slots, e0, e1);
      });
    } finally {
      for (const v of [job.dY, job.dhN, job.dcN, job.dX, job.dh0, job.dc0, sum, partials]) stash.give(v?.buffer);
    }
  }
}
