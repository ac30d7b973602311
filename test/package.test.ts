// The built package as users load it: require('cellscan') and import { LSTM } from 'cellscan'; and
// its package.json as npm reads it on a user's install. (The packed tarball itself, installed into
// a fresh project: test/package-install, run by .ci/run.)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const exported = ['Tensor', 'LSTM', 'GRU', 'RNN', 'Tape', 'loadSafetensors', 'saveSafetensors', 'backends', 'useBackend', 'currentBackend', 'setNumThreads', 'exportONNX', 'Batcher', 'QueueFullError', 'BatcherClosedError'];

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

test('require("cellscan") exposes the public API', () => {
  const out = node(['-e', `const c = require('cellscan'); console.log(JSON.stringify(${JSON.stringify(exported)}.map((k) => typeof c[k])))`]);
  expect(JSON.parse(out)).toEqual(exported.map(() => 'function'));
});

test('import { LSTM } from "cellscan" works from an ES module and runs a forward', () => {
  const code = `import { LSTM, Tensor } from 'cellscan';
const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
const { output } = m.forward(Tensor.zeros([4, 1, 2]));
console.log(output.shape.join('x'));`;
  expect(node(['--input-type=module', '-e', code])).toBe('4x1x3');
});

test('type declarations are emitted for the entry point', () => {
  expect(node(['-e', "console.log(require('fs').existsSync(require.resolve('cellscan').replace(/\\.js$/, '.d.ts')))"])).toBe('true');
});

describe('package.json as published (SPEC §11: no compiler, no install script, no download)', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

  test('npm never builds or runs anything when a user installs it', () => {
    for (const hook of ['preinstall', 'install', 'postinstall']) expect([hook, manifest.scripts[hook]]).toEqual([hook, undefined]);
    expect(manifest.gypfile).toBe(false);
  });

  test('the tarball carries the prebuilt binaries and what building from source needs', () => {
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'prebuilds', 'binding.gyp', 'native']));
    // node-gyp's include path for building from source: a dependency, not a devDependency.
    expect(manifest.dependencies['node-addon-api']).toBeDefined();
  });

  test('npm pack builds the prebuilt binary; the repository install builds the addon from prepare', () => {
    expect(manifest.scripts.prepack).toBe('node scripts/build-prebuild.js');
    expect(manifest.scripts.postpack).toBe('node scripts/build-prebuild.js --remove');
    expect(manifest.scripts.prepare).toMatch(/node scripts\/prepare-native\.js/);
  });

  test("onnxruntime-node's GPU download is refused in allowScripts, not by an .npmrc key npm warns about", () => {
    expect(manifest.allowScripts['onnxruntime-node']).toBe(false);
    const npmrc = path.join(root, '.npmrc');
    if (fs.existsSync(npmrc)) expect(fs.readFileSync(npmrc, 'utf8')).not.toMatch(/onnxruntime-node-install/);
  });
});
