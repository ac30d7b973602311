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
  explain(run.error ? run.error.message : failureReason(`${run.stdout || ''}\n${run.stderr || ''}`, run.status));
}

// node-gyp's own "stack Error:" line names the cause (no Python, no make, ...); compiler failures
// show as "error:" lines.
function failureReason(output, status) {
  const lines = output.split('\n').map((l) => l.trim());
  const first = lines.findIndex((l) => /stack Error: /.test(l));
  if (first >= 0) {
    const message = [lines[first].replace(/^.*stack Error: /, '')];
    for (const l of lines.slice(first + 1)) {
      if (!/ERR! stack /.test(l) || /ERR! stack at /.test(l)) break;
      message.push(l.replace(/^.*ERR! stack /, ''));
    }
    return message.join(' ');
  }
  const compiler = lines.filter((l) => /\berror:/.test(l)).slice(0, 3);
  if (compiler.length) return compiler.join(' | ');
  return `node-gyp exited with status ${status}`;
}
