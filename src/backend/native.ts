// The C++ addon behind the Backend interface. Its Layer class already takes and returns exactly
// the shapes of BackendLayer, so this file only finds and loads the binary.
import * as fs from 'fs';
import * as path from 'path';
import { rangeError } from '../errors';
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

/** Where node-gyp leaves the addon, from the package root (this file sits two levels below it). */
export const nativeAddonPath = path.join(__dirname, '..', '..', 'build', 'Release', 'cellscan.node');

/** Kernel tables the addon has, lowest first; CELLSCAN_KERNELS caps the choice (for tests and measurements). */
export const nativeKernelSets = ['portable', 'avx2_fma', 'avx512f'] as const;

/**
 * The addon's forwardLayers arguments: the count, then each layer followed by its forward's fields
 * in the order of ForwardField in native/js/layer_wrap.cc. Positional, because reading sixteen
 * named properties per layer was a tenth of a streaming step.
 */
export function forwardLayersArguments(calls: LayerForward[]): unknown[] {
  const out: unknown[] = [calls.length];
  for (const { layer, args: a } of calls) {
    out.push(layer, a.T, a.B, a.x, a.h0, a.c0, a.lengths, a.y, a.yStride, a.hN, a.cN, a.training,
      a.recurrentMask, a.zoneoutHidden, a.zoneoutHiddenMask, a.zoneoutCell, a.zoneoutCellMask);
  }
  return out;
}

/** Loads the addon; throws an Error whose message says why it is unavailable and what to do. */
export function loadNativeBackend(): Backend {
  const cap = process.env.CELLSCAN_KERNELS;
  if (cap !== undefined && cap !== '' && !(nativeKernelSets as readonly string[]).includes(cap)) {
    throw rangeError('CELLSCAN_KERNELS', 'value', `one of ${nativeKernelSets.map((k) => `"${k}"`).join(', ')}`, cap);
  }
  if (!fs.existsSync(nativeAddonPath)) {
    throw new Error(
      `the addon was not built (${nativeAddonPath} is missing); install a C++ toolchain (g++/clang, make, python3) ` +
        'and run `npm run build:native`',
    );
  }
  let addon: NativeAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(nativeAddonPath) as NativeAddon;
  } catch (e) {
    throw new Error(`the addon failed to load: ${(e as Error).message}; rebuild it with \`npm run build:native\``);
  }
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
