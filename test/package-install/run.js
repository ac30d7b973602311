#!/usr/bin/env node
// SPEC §11 checked the way a user meets it (`npm run test:package`; .ci/run runs it): `npm pack`
// (whose prepack builds the prebuilt binary), the tarball's contents and manifest, the tarball
// installed into a fresh project with --ignore-scripts (no install script may be needed), and
// consumer.js there: cellscan loads its prebuilt addon and computes a golden fixture on it.
// Exit status 1, with the step that failed, on any problem. CELLSCAN_KEEP_PACKAGE_CHECK=1 keeps
// the scratch folder.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const target = `${process.platform}-${process.arch}`;
// Stacked and bidirectional, with initial states and gradients: every kind of call the addon makes.
const fixture = path.join(root, 'test', 'fixtures', 'lstm_stacked_bidir.safetensors');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

class CheckFailed extends Error {}

function run(what, command, args, options) {
  const started = Date.now();
  console.log(`\n== ${what}: ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error) throw new CheckFailed(`${what}: could not start ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new CheckFailed(`${what}: ${command} exited with status ${r.status}`);
  console.log(`== ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The tarball's file list, without the leading "package/". */
function tarballFiles(tarball) {
  const r = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new CheckFailed(`listing ${tarball}: ${r.stderr || r.error}`);
  return r.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
}

function checkContents(files) {
  const missing = [`prebuilds/${target}/cellscan.node`, 'binding.gyp', 'native/addon.cc', 'dist/index.js', 'dist/cli.js', 'dist/cli/build-native.js', 'dist/wasm/cellscan.wasm']
    .filter((f) => !files.includes(f));
  if (missing.length > 0) throw new CheckFailed(`the tarball lacks ${missing.join(', ')}`);
  const stray = files.filter((f) => /^(src|test|scripts|build|assembly)\//.test(f));
  if (stray.length > 0) throw new CheckFailed(`the tarball carries files only the repository needs: ${stray.slice(0, 5).join(', ')}`);
  console.log(`tarball: ${files.length} files, prebuilds/${target}/cellscan.node among them`);
}

/** The published manifest: npm must never build or run anything at install (SPEC §11). */
function checkManifest(manifestPath) {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const installScripts = ['preinstall', 'install', 'postinstall'].filter((s) => manifest.scripts && manifest.scripts[s]);
  if (installScripts.length > 0) throw new CheckFailed(`the published package.json has ${installScripts.join(', ')}`);
  if (manifest.gypfile !== false) throw new CheckFailed(`the published package.json has gypfile ${JSON.stringify(manifest.gypfile)}, not false`);
  console.log('manifest: no preinstall/install/postinstall, "gypfile": false');
}

/** The bench suite needs the repository's dev dependencies: an installed package says so in one line. */
function checkBenchRefused(project, env) {
  const cli = path.join(project, 'node_modules', 'cellscan', 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'bench', '--shapes', 'S9'], { cwd: project, env, encoding: 'utf8' });
  const expected = "cellscan: bench needs the repository's dev dependencies (tinybench, onnxruntime-node, TensorFlow.js), which an installed package does not have: run it in a clone of cellscan, after `npm install`, as `npm run bench`\n";
  if (r.status !== 2 || r.stderr !== expected) {
    throw new CheckFailed(`cellscan bench in the installed package: status ${r.status}, stderr ${JSON.stringify(r.stderr.slice(0, 400))}`);
  }
  console.log('bench in the installed package: refused in one line, status 2');
}

function main() {
  if (!fs.existsSync(fixture)) throw new CheckFailed(`${fixture} is missing`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-package-'));
  try {
    run('pack', npm, ['pack', '--pack-destination', work, '--foreground-scripts'], { cwd: root });
    const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
    if (tarballs.length !== 1) throw new CheckFailed(`npm pack left ${tarballs.length} tarballs in ${work}`);
    const tarball = path.join(work, tarballs[0]);
    checkContents(tarballFiles(tarball));

    const project = path.join(work, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'cellscan-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
    // --prefer-offline: the dependencies come from npm's cache, filled by the repository's own install.
    run('install', npm, ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project });
    checkManifest(path.join(project, 'node_modules', 'cellscan', 'package.json'));

    fs.copyFileSync(path.join(__dirname, 'consumer.js'), path.join(project, 'consumer.js'));
    fs.copyFileSync(fixture, path.join(project, path.basename(fixture)));
    // The user's environment, not the test suite's: nothing forces a backend or a kernel table.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CELLSCAN_')));
    run('use', process.execPath, ['consumer.js', path.basename(fixture)], { cwd: project, env });
    checkBenchRefused(project, env);
  } finally {
    if (process.env.CELLSCAN_KEEP_PACKAGE_CHECK === '1') console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
  console.log('\npackage install check: passed');
} catch (e) {
  if (!(e instanceof CheckFailed)) throw e;
  console.error(`\npackage install check failed: ${e.message}`);
  process.exitCode = 1;
}
