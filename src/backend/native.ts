// The C++ addon behind the Backend interface. Its Layer class already takes and returns exactly
// the shapes of BackendLayer, so this file only loads the binary (native-load.ts finds it).
import * as path from 'path';
import { rangeError } from '../errors';
import { loadAddonBinary, type LoadedAddon, type NativeBinaryInfo } from './native-load';
import type { Backend, BackendLayer, GemmArgs, LayerForward, LayerParams, LayerSpec, Workspace } from './types';

interface NativeAddon {
  Layer: new (spec: LayerSpec, params: LayerParams) => BackendLayer;
  /** forwardLayers(n, layer0, ...fields of layer 0's forward, layer1, ...): see forwardLayersArguments(). */
  forwardLayers(...args: unknown[]): (Workspace | undefined)[];
  forwardLayersAsync(...args: unknown[]): Promise<(Workspace | undefined)[]>;
  gemm(args: GemmArgs): void;
  setNumThreads(n: number): void;
  numThreads(): number;
  cpuFeatures(): string[];
  kernels(): string;
}

/** The package's root folder: this file sits two levels below it (src/backend or dist/backend). */
export const packageRoot = path.join(__dirname, '..', '..');

const addonFunctions = ['forwardLayers', 'forwardLayersAsync', 'gemm', 'setNumThreads', 'numThreads', 'cpuFeatures', 'kernels', 'Layer'] as const;

function lacking(addon: unknown): string | undefined {
  const missing = addonFunctions.filter((f) => typeof (addon as Record<string, unknown> | null)?.[f] !== 'function');
  return missing.length > 0 ? `it has no ${missing.join(', ')}` : undefined;
}

let loadedAddon: LoadedAddon<NativeAddon> | undefined;

/**
 * The addon module itself (the tests and benchmarks reach it directly) and which binary it came
 * from; loaded once per process. Throws NativeAddonUnavailable, naming every place tried.
 */
export function loadNativeAddon(): LoadedAddon<NativeAddon> {
  loadedAddon ??= loadAddonBinary<NativeAddon>(packageRoot, { check: lacking });
  return loadedAddon;
}

/** The binary the native backend runs, once it has loaded. */
export function nativeBinary(): NativeBinaryInfo | undefined {
  return loadedAddon?.binary;
}

/** Kernel tables the addon has, lowest first; CELLSCAN_KERNELS caps the choice (for tests and measurements). */
export const nativeKernelSets = ['portable', 'avx2_fma', 'avx512f'] as const;

/**
 * The addon's forwardLayers arguments: the count, then each layer followed by its forward's fields
 * in the order of ForwardField in native/js/layer_args.h. Positional, because reading sixteen
 * named properties per layer was a tenth of a streaming step.
 */
export function forwardLayersArguments(calls: LayerForward[]): unknown[] {
  const out: unknown[] = [calls.length];
  for (const { layer, args: a, stage } of calls) {
    out.push(layer, a.T, a.B, a.x, a.h0, a.c0, a.lengths, a.y, a.yStride, a.hN, a.cN, a.training,
      a.recurrentMask, a.zoneoutHidden, a.zoneoutHiddenMask, a.zoneoutCell, a.zoneoutCellMask, stage);
  }
  return out;
}

/** Loads the addon; throws an Error whose message says why it is unavailable and what to do. */
export function loadNativeBackend(): Backend {
  const cap = process.env.CELLSCAN_KERNELS;
  if (cap !== undefined && cap !== '' && !(nativeKernelSets as readonly string[]).includes(cap)) {
    throw rangeError('CELLSCAN_KERNELS', 'value', `one of ${nativeKernelSets.map((k) => `"${k}"`).join(', ')}`, cap);
  }
  const { addon } = loadNativeAddon();
  const features = [...addon.cpuFeatures(), `kernels:${addon.kernels()}`];
  return {
    name: 'native',
    features,
    createLayer: (spec, params) => new addon.Layer(spec, params),
    forwardLayers: (calls) => addon.forwardLayers(...forwardLayersArguments(calls)),
    forwardLayersAsync: (calls) => addon.forwardLayersAsync(...forwardLayersArguments(calls)),
    gemm: (args) => addon.gemm(args),
    setNumThreads: (n) => addon.setNumThreads(n),
    numThreads: () => addon.numThreads(),
  };
}
