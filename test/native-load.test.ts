// Finding the addon binary (src/backend/native-load.ts) in fake package folders: the order tried,
// and a message naming every place tried, why each failed, and the command that builds one.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  addonCandidates,
  buildFromSourceCommand,
  describeNativeBinary,
  loadAddonBinary,
  NativeAddonUnavailable,
} from '../src/backend/native-load';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-load-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function place(relative: string, content = 'stand-in'): string {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

function unavailable(fn: () => unknown): NativeAddonUnavailable {
  try {
    fn();
  } catch (e) {
    if (e instanceof NativeAddonUnavailable) return e;
    throw e;
  }
  throw new Error('nothing was thrown');
}

const built = path.join('build', 'Release', 'cellscan.node');
const prebuilt = path.join('prebuilds', 'linux-x64', 'cellscan.node');
const linux = { platform: 'linux', arch: 'x64' };

test('a package folder with no build/ and no prebuilds/: the error lists every path tried, why, and the build command', () => {
  const e = unavailable(() => loadAddonBinary(root, linux));
  expect(e.attempts.map((a) => [a.origin, a.path])).toEqual([
    ['source', path.join(root, built)],
    ['prebuilt', path.join(root, prebuilt)],
  ]);
  expect(e.message).toContain(`no addon binary can be used on linux-x64 (Node ${process.versions.node}, N-API ${process.versions.napi})`);
  expect(e.message).toContain(`built from source ${path.join(root, built)}: not there: nothing was built from source here`);
  expect(e.message).toContain(`prebuilt ${path.join(root, prebuilt)}: not there: this copy of cellscan carries no prebuilt binaries`);
  expect(e.message).toContain(`run \`${buildFromSourceCommand}\` in the project that installed cellscan`);
  expect(buildFromSourceCommand).toBe('npx cellscan build-native');
});

test('the build from source comes first, the prebuilt binary second', () => {
  expect(addonCandidates(root, 'linux', 'x64')).toEqual([
    { origin: 'source', path: path.join(root, built) },
    { origin: 'prebuilt', path: path.join(root, prebuilt) },
  ]);
  place(built);
  place(prebuilt);
  const loaded: string[] = [];
  const r = loadAddonBinary<string>(root, { ...linux, load: (f) => (loaded.push(f), `module at ${f}`) });
  expect(r.binary).toEqual({ origin: 'source', path: path.join(root, built), skipped: [] });
  expect(r.addon).toBe(`module at ${path.join(root, built)}`);
  expect(loaded).toEqual([path.join(root, built)]);
});

test('no build/: the prebuilt binary loads, and the report says so', () => {
  place(prebuilt);
  const r = loadAddonBinary(root, { ...linux, load: () => ({}) });
  expect(r.binary.origin).toBe('prebuilt');
  expect(r.binary.path).toBe(path.join(root, prebuilt));
  expect(r.binary.skipped.map((s) => s.origin)).toEqual(['source']);
  expect(describeNativeBinary(r.binary)).toBe(`addon ${path.join(root, prebuilt)} (prebuilt)`);
});

test('a build that does not load is passed over with dlopen\'s reason, and the prebuilt binary serves', () => {
  place(built, 'this is no shared object');
  place(prebuilt);
  // The real loader for the broken file, so the reason is the one a user would read.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (f: string) => (f.includes('prebuilds') ? { fine: true } : require(f));
  const r = loadAddonBinary(root, { ...linux, load });
  expect(r.addon).toEqual({ fine: true });
  expect(r.binary.skipped).toHaveLength(1);
  expect(r.binary.skipped[0].reason).toMatch(/^failed to load: .*(invalid ELF header|file too short|not a valid|slice is not valid mach-o)/);
  expect(describeNativeBinary(r.binary)).toMatch(/^addon .*prebuilds.*cellscan\.node \(prebuilt\); passed over .*Release.cellscan\.node: failed to load: /);
});

test('a binary from other sources (missing functions) is passed over with what it lacks', () => {
  place(built);
  const check = (m: unknown) => ((m as { kernels?: unknown }).kernels ? undefined : 'it has no kernels');
  const e = unavailable(() => loadAddonBinary(root, { ...linux, load: () => ({}), check }));
  expect(e.attempts[0].reason).toBe("loaded, but it has no kernels (built from other sources than this package's; rebuild it)");
  expect(e.message).toContain('npx cellscan build-native');
});

test('a platform the package ships no binary for: the reason names the platforms it does ship', () => {
  place(prebuilt);
  const e = unavailable(() => loadAddonBinary(root, { platform: 'darwin', arch: 'arm64', load: () => ({}) }));
  expect(e.attempts.map((a) => a.path)).toEqual([path.join(root, built), path.join(root, 'prebuilds', 'darwin-arm64', 'cellscan.node')]);
  expect(e.attempts[1].reason).toBe('not there: this package carries prebuilt binaries only for linux-x64, none for darwin-arm64');
  expect(e.message).toContain('no addon binary can be used on darwin-arm64');
});
