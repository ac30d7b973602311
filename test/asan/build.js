#!/usr/bin/env node
// Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into build/asan/, never
// touching build/Release (which every other test loads). node-gyp always writes to ./build of the
// folder holding binding.gyp, so the sources are mirrored into build/asan/ and built there; copies
// keep their modification times, so a second run recompiles only what changed.
// Prints the path of the instrumented binary as its last line.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const tree = path.join(root, 'build', 'asan');
const binary = path.join(tree, 'build', 'Release', 'cellscan.node');

// -O1 keeps reports readable and the run fast enough; frame pointers give whole stacks. Placed
// after binding.gyp's own flags by gyp's Makefiles, so -O1 wins over -O3.
const sanitize = '-fsanitize=address,undefined,float-cast-overflow';
const env = {
  ...process.env,
  CFLAGS: `${sanitize} -fno-omit-frame-pointer -g -O1`,
  CXXFLAGS: `${sanitize} -fno-omit-frame-pointer -g -O1`,
  LDFLAGS: sanitize,
};

function mirrorSources() {
  fs.mkdirSync(tree, { recursive: true });
  fs.rmSync(path.join(tree, 'native'), { recursive: true, force: true });
  fs.cpSync(path.join(root, 'native'), path.join(tree, 'native'), { recursive: true, preserveTimestamps: true });
  const gyp = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
  // A changed binding.gyp or changed flags need a fresh configure; anything else an incremental make.
  const stamp = path.join(tree, 'configured-with');
  const wanted = JSON.stringify({ gyp, flags: [env.CFLAGS, env.CXXFLAGS, env.LDFLAGS] });
  const fresh = !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== wanted;
  if (fresh) fs.writeFileSync(path.join(tree, 'binding.gyp'), gyp);
  return { fresh, stamp, wanted };
}

// npm passes its nodedir setting on; run by hand, the headers installed beside this node serve
// (node-gyp would otherwise download them, which fails offline).
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function nodeGyp(args) {
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  const dir = nodeDir();
  const jobs = `--jobs=${require('os').availableParallelism()}`;
  const r = spawnSync(process.execPath, [gyp, ...args, jobs, ...(dir ? [`--nodedir=${dir}`] : [])], {
    cwd: tree,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) {
    console.error(`test:asan: node-gyp ${args.join(' ')} failed (status ${r.status}) in ${tree}`);
    process.exit(1);
  }
}

const { fresh, stamp, wanted } = mirrorSources();
if (fresh) {
  fs.rmSync(stamp, { force: true });
  nodeGyp(['rebuild']);
  fs.writeFileSync(stamp, wanted);
} else {
  nodeGyp(['build']);
}
console.log(binary);
