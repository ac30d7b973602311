#!/usr/bin/env node
// Builds the C++ addon during `npm install`. A failed build never fails the install: cellscan then
// runs on its WebAssembly backend, and this script says why the addon is missing.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');

function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    // Installed as a dependency without devDependencies: npm ships its own node-gyp.
    return process.env.npm_config_node_gyp || null;
  }
}

function explain(reason) {
  console.warn(
    `cellscan: the native addon was not built, so the WebAssembly backend will serve.\n` +
      `  reason: ${reason}\n` +
      `  to use the faster native backend, install g++ (or clang), make and python3, then run: npm run build:native`,
  );
}

const gyp = nodeGyp();
if (!gyp) {
  explain('node-gyp was not found');
  process.exit(0);
}
const run = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, encoding: 'utf8' });
if (run.status === 0) {
  console.log('cellscan: native addon built (build/Release/cellscan.node)');
} else {
  const lines = `${run.stdout || ''}\n${run.stderr || ''}`.split('\n');
  const telling = lines.filter((l) => /error|not found|No such file|ERR!.*(find|stack Error)/i.test(l));
  const reason = (telling.length ? telling.slice(0, 6) : lines.slice(-6)).map((l) => l.trim()).join(' | ');
  explain(run.error ? run.error.message : reason || `node-gyp exited with status ${run.status}`);
}
