// The one interface both backends implement. A backend computes one direction of one layer over a
// whole sequence per call; stacking, directions, dropout and layouts live in the facade, once.
import type { NativeBinaryInfo } from './native-load';

export type BackendName = 'native' | 'wasm';
export type CellKind = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

export interface LayerSpec {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  /** 0: no projection (LSTM only). */
  projSize: number;
  bias: boolean;
  peepholes: boolean;
  linearBeforeReset: boolean;
  reverse: boolean;
}

/** Parameters of one layer direction in PyTorch's layout; the optional ones exist iff the spec says so. */
export interface LayerParams {
  wIh: Float32Array; // [G*H, I]
  wHh: Float32Array; // [G*H, Hout]
  bIh?: Float32Array; // [G*H]
  bHh?: Float32Array; // [G*H]
  wHr?: Float32Array; // [Hout, H]
  wPeep?: Float32Array; // [3, H] rows i, f, o
}

export interface ForwardArgs {
  T: number;
  B: number;
  x: Float32Array; // [T, B, I]
  h0?: Float32Array; // [B, Hout]; absent: zeros
  c0?: Float32Array; // [B, H] (LSTM); absent: zeros
  lengths?: Int32Array; // [B], each in 0..T; absent: all T
  y: Float32Array; // T*B rows of Hout, yStride apart (written)
  yStride: number;
  hN: Float32Array; // [B, Hout] (written)
  cN?: Float32Array; // [B, H] (written, LSTM)
  /** Keep what backward needs and return it (a training forward, or a tape of an evaluation one). */
  training: boolean;
  // The seed's variants (SPEC §3a), drawn by the caller so every backend computes the same thing.
  /** Recurrent dropout: the recurrent product sees recurrentMask ⊙ h [B, Hout]; absent: h. */
  recurrentMask?: Float32Array;
  /** Zoneout of h: d = zoneoutHiddenMask[t, b, j] (0 or 1) when given, else zoneoutHidden (default 0). */
  zoneoutHidden?: number;
  zoneoutHiddenMask?: Uint8Array; // [T, B, Hout]
  /** Zoneout of c (LSTM), likewise. */
  zoneoutCell?: number;
  zoneoutCellMask?: Uint8Array; // [T, B, H]
}

/** What a training forward keeps for backward; only the backend that made it can read it. */
export interface Workspace {
  readonly byteLength: number;
  /** Frees the memory now rather than at garbage collection; the workspace is unusable after. */
  release?(): void;
}

export interface BackwardArgs {
  workspace: Workspace;
  dY?: Float32Array; // T*B rows of Hout, dYStride apart; absent: zeros
  dYStride: number;
  dhN?: Float32Array;
  dcN?: Float32Array;
  dX: Float32Array; // [T, B, I] (written)
  dh0: Float32Array; // [B, Hout] (written)
  dc0?: Float32Array; // [B, H] (written, LSTM)
  grads: LayerParams; // parameter gradients are ADDED into these
}

/** One layer direction with its weights prepared (copied, packed) for repeated calls. */
export interface BackendLayer {
  /** Returns the workspace when args.training, else undefined. */
  forward(args: ForwardArgs): Workspace | undefined;
  forwardAsync(args: ForwardArgs): Promise<Workspace | undefined>;
  backward(args: BackwardArgs): void;
  backwardAsync(args: BackwardArgs): Promise<void>;
  /**
   * Frees the prepared weights as soon as no workspace of this layer's forwards is alive (their
   * backward still runs), instead of at garbage collection; the layer takes no new forward after.
   */
  release(): void;
}

/** One layer direction's forward in Backend.forwardLayers. */
export interface LayerForward {
  layer: BackendLayer;
  args: ForwardArgs;
  /**
   * The calls of one forwardLayers run in stages, in order (0 first, each call's stage its
   * predecessor's or one more); the calls of a stage are independent. A call whose x is the array
   * the previous stage writes as y (a stack of layers in one call) reads that stage's output: an
   * async call then keeps it inside the call and does not write it to that y. Absent: 0.
   */
  stage?: number;
}

/** c[m, n] = (accumulate ? c : 0) + op(a)[m, k] · op(b)[k, n]; dense row-major, op(X) = Xᵀ when trans. */
export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  a: Float32Array;
  transA?: boolean;
  b: Float32Array;
  transB?: boolean;
  c: Float32Array;
  accumulate?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** CPU and instruction-set features the backend uses. */
  readonly features: string[];
  createLayer(spec: LayerSpec, params: LayerParams): BackendLayer;
  /**
   * The forwards of layers (each at most once) in stages (LayerForward.stage): a stage's calls side
   * by side where the backend can; each result is what layer.forward(args) returns.
   */
  forwardLayers(calls: LayerForward[]): (Workspace | undefined)[];
  forwardLayersAsync(calls: LayerForward[]): Promise<(Workspace | undefined)[]>;
  /** A matrix product, for layers outside the recurrent kernels (Linear). */
  gemm(args: GemmArgs): void;
  setNumThreads(n: number): void;
  numThreads(): number;
}

export interface BackendInfo {
  name: BackendName;
  available: boolean;
  reason?: string;
  features: string[];
  threads: number;
  /**
   * native, when loaded: the binary that runs, 'source' (built on this machine, build/Release) or
   * 'prebuilt' (shipped in the package, prebuilds/<platform>-<arch>), its path, and any binary
   * passed over before it with the reason.
   */
  binary?: NativeBinaryInfo;
}
