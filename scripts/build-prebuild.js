#!/usr/bin/env node
// `prepack`: builds the binary the package ships, prebuilds/<platform>-<arch>/cellscan.node, so
// that `npm pack` alone makes a tarball that gives the native backend with no compiler and no
// install script (SPEC §11); `postpack` (--remove) deletes it from the checkout again. N-API, so
// this one build serves every Node version of the platform.
//
// It compiles a scratch copy of binding.gyp and native/, never the developer's build/: whatever is
// there (a debug or sanitizer build, one from edited sources) must not end up in a release, and
// rebuilding it in place would pull the addon from under anything running on it.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const shipped = path.join(root, 'prebuilds', target, 'cellscan.node');
// Kernel tables lowest first, with the CPU feature each needs (native/isa/kernel_table.cc).
const kernelTables = [
  { name: 'portable', needs: [] },
  { name: 'avx2_fma', needs: ['avx2', 'fma'] },
  { name: 'avx512f', needs: ['avx512f'] },
];

class PrebuildError extends Error {}
function fail(message) {
  throw new PrebuildError(message);
}

// One binary for every CPU of the platform: a flag that tunes for the packing machine would make
// it an illegal instruction elsewhere.
const hostTuned = /-m(arch|tune|cpu)=native/;

try {
  if (process.argv[2] === '--remove') removePrebuilds();
  else prebuild();
} catch (e) {
  if (!(e instanceof PrebuildError)) throw e;
  console.error(`cellscan prebuild: ${e.message}`);
  process.exitCode = 1;
}

function prebuild() {
  if (hostTuned.test(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'))) {
    fail('binding.gyp asks for -march/-mtune=native; the shipped binary must run on every CPU of its platform');
  }

  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    nodeGyp = process.env.npm_config_node_gyp;
  }
  if (!nodeGyp || !fs.existsSync(nodeGyp)) fail('node-gyp was not found (a devDependency: run `npm install` first)');

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-prebuild-'));
  try {
    fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(scratch, 'binding.gyp'));
    fs.cpSync(path.join(root, 'native'), path.join(scratch, 'native'), { recursive: true });
    const env = { ...process.env };
    // binding.gyp asks node for node-addon-api's headers; from the scratch folder it finds them here.
    env.NODE_PATH = [path.join(root, 'node_modules'), env.NODE_PATH].filter(Boolean).join(path.delimiter);
    // Compiler flags from the packer's shell would go into the release (-march=native among them).
    for (const name of ['CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS']) delete env[name];
    console.log(`cellscan prebuild: compiling the addon for ${target} (node-gyp, a scratch copy of binding.gyp and native/)`);
    const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', '--jobs', 'max'], { cwd: scratch, env, stdio: 'inherit' });
    if (build.error) fail(`node-gyp could not be started: ${build.error.message}`);
    if (build.status !== 0) fail(`node-gyp exited with status ${build.status} (its output above says why)`);

    const buildDir = path.join(scratch, 'build');
    const makefiles = fs.readdirSync(buildDir).filter((f) => f.endsWith('.mk') || f === 'Makefile');
    for (const f of makefiles) {
      if (hostTuned.test(fs.readFileSync(path.join(buildDir, f), 'utf8'))) fail(`build/${f} compiles with -march/-mtune=native`);
    }
    const built = path.join(buildDir, 'Release', 'cellscan.node');
    const tables = checkKernelTables(built);

    fs.mkdirSync(path.dirname(shipped), { recursive: true });
    fs.copyFileSync(built, shipped);
    const size = (fs.statSync(shipped).size / 1024).toFixed(0);
    console.log(
      `cellscan prebuild: ${path.relative(root, shipped)} (${size} KiB; kernel tables checked by loading: ${tables.join(', ')}` +
        `${libraryNeeds(shipped)})`,
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * `postpack`: the binary is for the tarball only. Left in the checkout, it would serve whenever
 * build/ is missing or broken, and hide a failed build of edited sources behind a stale addon.
 */
function removePrebuilds() {
  fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
}

/**
 * Loads the binary once per kernel table this CPU can run, capped by CELLSCAN_KERNELS, and checks
 * each is the table that serves: proof the tables are inside and dispatch works. A table the CPU
 * lacks cannot be run here; its static library having been linked is the check left.
 */
function checkKernelTables(binary) {
  const load = (cap) => {
    const code = 'const a = require(process.argv[1]); console.log(JSON.stringify({ k: a.kernels(), f: a.cpuFeatures() }))';
    const r = spawnSync(process.execPath, ['-e', code, binary], { env: { ...process.env, CELLSCAN_KERNELS: cap }, encoding: 'utf8' });
    if (r.status !== 0) fail(`the built addon does not load: ${(r.stderr || '').trim().split('\n')[0]}`);
    return JSON.parse(r.stdout);
  };
  const features = load('avx512f').f;
  const checked = [];
  for (const table of kernelTables) {
    if (!table.needs.every((f) => features.includes(f))) {
      if (process.arch === 'x64' && table.name !== 'portable') {
        const lib = table.name === 'avx512f' ? 'cellscan_avx512.a' : 'cellscan_avx2.a';
        if (!fs.existsSync(path.join(path.dirname(binary), lib))) fail(`${lib} was not built: the ${table.name} table is missing`);
        checked.push(`${table.name} (linked; this CPU cannot run it)`);
      }
      continue;
    }
    const got = load(table.name).k;
    if (got !== table.name) fail(`with CELLSCAN_KERNELS=${table.name} the addon chose ${got}: that table is missing`);
    checked.push(table.name);
  }
  if (process.arch === 'x64' && checked.length < kernelTables.length) fail(`x64 binary without every kernel table: ${checked.join(', ')}`);
  return checked;
}

/** The newest glibc and libstdc++ symbol versions the binary asks for: what a machine needs to load it. */
function libraryNeeds(binary) {
  if (process.platform !== 'linux') return '';
  const text = fs.readFileSync(binary).toString('latin1');
  const newest = (prefix) => {
    const versions = [...text.matchAll(new RegExp(`${prefix}_(\\d+(?:\\.\\d+)+)\\0`, 'g'))].map((m) => m[1]);
    const key = (v) => v.split('.').map((n) => n.padStart(4, '0')).join('.');
    return versions.sort((a, b) => (key(a) < key(b) ? -1 : 1)).pop();
  };
  const glibc = newest('GLIBC');
  const cxx = newest('GLIBCXX');
  return `; needs ${glibc ? `glibc ${glibc}` : 'no versioned glibc'}${cxx ? `, libstdc++ GLIBCXX_${cxx}` : ''}`;
}
