// The C++ addon behind the Backend interface. Its Layer class already takes and returns exactly
// the shapes of BackendLayer, so this file only finds and loads the binary.
import * as fs from 'fs';
import * as path from 'path';
import { rangeError } from '../errors';
import type { Backend, BackendLayer, ForwardArgs, GemmArgs, LayerParams, LayerSpec, Workspace } from './types';

interface NativeAddon {
  Layer: new (spec: LayerSpec, params: LayerParams) => BackendLayer;
  forwardLayers(layers: BackendLayer[], args: ForwardArgs[]): (Workspace | undefined)[];
  forwardLayersAsync(layers: BackendLayer[], args: ForwardArgs[]): Promise<(Workspace | undefined)[]>;
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
    forwardLayers: (calls) => addon.forwardLayers(calls.map((c) => c.layer), calls.map((c) => c.args)),
    forwardLayersAsync: (calls) => addon.forwardLayersAsync(calls.map((c) => c.layer), calls.map((c) => c.args)),
    gemm: (args) => addon.gemm(args),
    setNumThreads: (n) => addon.setNumThreads(n),
    numThreads: () => addon.numThreads(),
  };
}
