#!/usr/bin/env node
// The repository's `npm install` / `npm ci` builds the C++ addon here, from `prepare`: npm runs
// `prepare` for a project's own install and never for someone installing the published package,
// which carries a prebuilt binary instead. A failed build never fails the install: cellscan then
// runs on its WebAssembly backend, and this says why the addon is missing.
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');

// `npm pack` and `npm publish` run `prepare` too, right after `prepack` has built the binary the
// tarball ships (scripts/build-prebuild.js): compiling a second copy into build/ would only cost time.
const command = process.env.npm_command;
if (command === 'pack' || command === 'publish') {
  console.log(`cellscan: npm ${command}: the addon is not rebuilt in build/ (prepack built the prebuilt binary)`);
  process.exit(0);
}

let buildNative;
try {
  ({ buildNative } = require(path.join(root, 'dist', 'cli', 'build-native.js')));
} catch (e) {
  explain(`the TypeScript build that holds the build step is missing (${e.message.split('\n')[0]}); run \`npm run build\``);
  process.exit(0);
}
const result = buildNative({ root, quiet: true });
if (result.ok) {
  console.log(`cellscan: native addon built (${path.relative(root, result.binary)})`);
} else {
  explain(result.reason);
}

function explain(reason) {
  console.warn(
    'cellscan: the native addon was not built, so the WebAssembly backend will serve.\n' +
      `  reason: ${reason}\n` +
      '  to use the faster native backend, install g++ (or clang), make and python3, then run: npm run build:native',
  );
}
