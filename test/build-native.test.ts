// `cellscan build-native` (src/cli/build-native.ts): where it finds node-gyp, what it says when it
// cannot build, and the command's argument check. The build itself runs in every repository install
// (scripts/prepare-native.js calls buildNative), which the whole suite then loads.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildNative, findNodeGyp, nodeGypFailureReason } from '../src/cli/build-native';
import { loadedBackends } from './helpers/backends';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
let scratch: string;
beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-build-native-'));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

test('node-gyp: the one installed beside the package comes first (the repository has it as a devDependency)', () => {
  const found = findNodeGyp(root, {});
  expect(found.script).toBe(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  expect(found.tried).toEqual([]);
});

test("node-gyp: with none beside the package, the one npm names (npx and npm run set npm_config_node_gyp)", () => {
  const named = path.join(scratch, 'node-gyp.js');
  fs.writeFileSync(named, '');
  const found = findNodeGyp(scratch, { npm_config_node_gyp: named });
  expect(found.script).toBe(named);
  expect(found.tried).toEqual([`node-gyp installed beside ${scratch}: none`]);
});

test('node-gyp: each place looked is recorded with what was there', () => {
  const missing = path.join(scratch, 'nowhere', 'node-gyp.js');
  const found = findNodeGyp(scratch, { npm_config_node_gyp: missing, npm_execpath: path.join(scratch, 'npm', 'bin', 'npm-cli.js') });
  expect(found.tried.slice(0, 3)).toEqual([
    `node-gyp installed beside ${scratch}: none`,
    `npm_config_node_gyp: ${missing} does not exist`,
    `npm_execpath: ${path.join(scratch, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')} does not exist`,
  ]);
  // Then npm's own copy beside the node executable, which a machine with npm has.
  if (found.script !== undefined) expect(found.script).toMatch(/node_modules[\\/]npm[\\/]node_modules[\\/]node-gyp[\\/]bin[\\/]node-gyp\.js$/);
});

test('a package folder without the C++ sources is refused with what is missing, before node-gyp runs', () => {
  const r = buildNative({ root: scratch, quiet: true });
  expect(r).toEqual({ ok: false, reason: `${scratch} has no binding.gyp or native: this copy of cellscan does not carry its C++ sources` });
});

test("node-gyp's cause is picked out of its output: its stack Error lines, else the compiler's error lines", () => {
  const noMake = [
    'gyp info it worked if it ends with ok',
    'gyp ERR! build error',
    'gyp ERR! stack Error: not found: make',
    'gyp ERR! stack     at getNotFoundError (/x/which.js:16:17)',
    'gyp ERR! System Linux 6.1.0',
  ].join('\n');
  expect(nodeGypFailureReason(noMake, 1)).toBe('not found: make');
  const compiler = [
    'make: Entering directory',
    '../native/addon.cc:3:10: fatal error: napi.h: No such file or directory',
    'compilation terminated.',
    'make: *** [cellscan.target.mk:140: Release/obj.target/cellscan/native/addon.o] Error 1',
  ].join('\n');
  expect(nodeGypFailureReason(compiler, 1)).toBe('../native/addon.cc:3:10: fatal error: napi.h: No such file or directory');
  expect(nodeGypFailureReason('', 7)).toBe('node-gyp exited with status 7');
});

test('the command takes no options: status 2, what it got and where its help is', () => {
  const r = spawnSync(process.execPath, [cli, 'build-native', '--release'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('cellscan: build-native takes no options, got "--release" (see `cellscan build-native --help`)\n');
});

test('info says which addon binary serves', () => {
  const r = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  if (loadedBackends().includes('native')) {
    expect(r.stdout).toMatch(/^native +available, .*, addon .*cellscan\.node \((built from source|prebuilt)\)/m);
  } else {
    expect(r.stdout).toMatch(/^native +unavailable: no addon binary can be used .*Tried:/m);
  }
});
