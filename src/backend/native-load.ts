// Finding the addon binary. A developer's own build (build/Release, from `node-gyp rebuild`) comes
// first, so that editing the C++ and rebuilding takes effect; then the binary the package ships for
// this platform (prebuilds/<platform>-<arch>/, one N-API build that serves every Node version). Each
// place tried is recorded with the reason it could not be used, because "the addon did not load" is
// useless to someone whose install silently fell back to WebAssembly.
import * as fs from 'fs';
import * as path from 'path';

/** The one command that builds the addon from source, in a project that installed cellscan or in its repository. */
export const buildFromSourceCommand = 'npx cellscan build-native';

/** The file name node-gyp gives the addon (binding.gyp's target_name) and the name the package ships it under. */
export const addonFileName = 'cellscan.node';

export type NativeBinaryOrigin = 'source' | 'prebuilt';

export interface AddonCandidate {
  /** 'source': built on this machine by node-gyp; 'prebuilt': shipped inside the package. */
  origin: NativeBinaryOrigin;
  path: string;
}

export interface AddonAttempt extends AddonCandidate {
  /** Why this binary could not be used. */
  reason: string;
}

/** The binary that loaded: where it came from, and the ones passed over before it, with why. */
export interface NativeBinaryInfo extends AddonCandidate {
  skipped: AddonAttempt[];
}

export interface LoadedAddon<T> {
  addon: T;
  binary: NativeBinaryInfo;
}

export interface AddonLoadOptions {
  platform?: string;
  arch?: string;
  /** Loads one binary; `require` unless a test substitutes its own. */
  load?: (file: string) => unknown;
  /** Says what a loaded module lacks (an addon from older sources), or undefined when it will do. */
  check?: (addon: unknown) => string | undefined;
}

/** The places tried, in order, for the package whose root folder is `root`. */
export function addonCandidates(root: string, platform: string = process.platform, arch: string = process.arch): AddonCandidate[] {
  // The one binary to try instead: npm run test:asan points it at the sanitizer build (test/asan/).
  const only = process.env.CELLSCAN_ADDON_PATH;
  if (only) return [{ origin: 'source', path: path.resolve(only) }];
  return [
    { origin: 'source', path: path.join(root, 'build', 'Release', addonFileName) },
    { origin: 'prebuilt', path: path.join(root, 'prebuilds', `${platform}-${arch}`, addonFileName) },
  ];
}

/** Thrown when no binary can be used; `attempts` holds every place tried and why it failed. */
export class NativeAddonUnavailable extends Error {
  constructor(
    readonly attempts: AddonAttempt[],
    readonly platform: string,
    readonly arch: string,
  ) {
    super(unavailableMessage(attempts, platform, arch));
    this.name = 'NativeAddonUnavailable';
  }
}

function unavailableMessage(attempts: AddonAttempt[], platform: string, arch: string): string {
  const lines = attempts.map((a) => `  ${a.origin === 'source' ? 'built from source' : 'prebuilt'} ${a.path}: ${a.reason}`);
  return (
    `no addon binary can be used on ${platform}-${arch} (Node ${process.versions.node}, N-API ${process.versions.napi}). Tried:\n` +
    `${lines.join('\n')}\n` +
    `To build it from source, run \`${buildFromSourceCommand}\` in the project that installed cellscan ` +
    '(it needs a C++17 compiler, make and python3); until then the WebAssembly backend serves.'
  );
}

/** Why there is no prebuilt binary for this platform: the platforms this package does ship, if any. */
function missingPrebuiltReason(candidate: string, platform: string, arch: string): string {
  const prebuilds = path.dirname(path.dirname(candidate));
  let shipped: string[];
  try {
    shipped = fs.readdirSync(prebuilds).filter((d) => fs.existsSync(path.join(prebuilds, d, addonFileName)));
  } catch {
    return 'not there: this copy of cellscan carries no prebuilt binaries (a checkout of the repository, or a package packed without them)';
  }
  const has = shipped.length > 0 ? `only for ${shipped.sort().join(', ')}` : 'for no platform';
  return `not there: this package carries prebuilt binaries ${has}, none for ${platform}-${arch}`;
}

/** The first line of a loader error: dlopen's message says what is wrong (wrong ELF class, a missing GLIBC version, ...). */
function loadFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return `failed to load: ${message.split('\n')[0]}`;
}

/**
 * Loads the first usable addon binary of the package at `root`. Throws NativeAddonUnavailable,
 * listing every place tried and the command that builds one, when none can be used.
 */
export function loadAddonBinary<T>(root: string, options: AddonLoadOptions = {}): LoadedAddon<T> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = options.load ?? ((file: string) => require(file));
  const skipped: AddonAttempt[] = [];
  for (const candidate of addonCandidates(root, platform, arch)) {
    if (!fs.existsSync(candidate.path)) {
      const reason =
        candidate.origin === 'source'
          ? `not there: nothing was built from source here (\`${buildFromSourceCommand}\` builds it)`
          : missingPrebuiltReason(candidate.path, platform, arch);
      skipped.push({ ...candidate, reason });
      continue;
    }
    let addon: unknown;
    try {
      addon = load(candidate.path);
    } catch (e) {
      skipped.push({ ...candidate, reason: loadFailure(e) });
      continue;
    }
    const lacking = options.check?.(addon);
    if (lacking !== undefined) {
      skipped.push({ ...candidate, reason: `loaded, but ${lacking} (built from other sources than this package's; rebuild it)` });
      continue;
    }
    return { addon: addon as T, binary: { ...candidate, skipped } };
  }
  throw new NativeAddonUnavailable(skipped, platform, arch);
}

/** One line for reports: which binary serves, and what was passed over. */
export function describeNativeBinary(b: NativeBinaryInfo): string {
  const what = b.origin === 'source' ? 'built from source' : 'prebuilt';
  // A missing build/ is the normal case of an installed package; a broken one is worth saying.
  const passed = b.skipped
    .filter((s) => s.origin === 'source' && !s.reason.startsWith('not there'))
    .map((s) => `; passed over ${s.path}: ${s.reason}`);
  return `addon ${b.path} (${what})${passed.join('')}`;
}
