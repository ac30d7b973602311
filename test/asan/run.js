#!/usr/bin/env node
// npm run test:asan: the addon built with AddressSanitizer + UBSan (test/asan/build.js), then the
// suites that drive it, once per kernel table the CPU runs (CELLSCAN_KERNELS), in jest processes
// that load the sanitizer runtime first (LD_PRELOAD: node itself is not instrumented, and the
// runtime must be in place before any library allocates).
//
//   node test/asan/run.js [--reduced] [--kernels avx2_fma,portable] [--suites fuzz-calls,fixtures] [--no-build]
//
// Ends with one line "test:asan: N passed, N failed (...)" and exits non-zero on any failed test
// or any sanitizer report.
'use strict';
const { execFileSync, spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');

// The kernel, fixture, variant and fuzz suites: every one that reaches the addon's kernels or its
// argument checks. --reduced (what .ci/run runs) keeps the boundaries, fixtures, variants, cells,
// extreme values, concurrent calls and fuzzing on one kernel table: AVX2+FMA, which both machine kinds
// of this project have.
const allSuites = [
  'fixtures', 'gradients', 'determinism', 'variants', 'cells', 'sorted-lengths', 'parity', 'linear', 'numerics',
  'concurrency', 'native-boundary', 'fuzz-calls', 'fuzz-boundaries',
];
const reducedSuites = ['fixtures', 'variants', 'cells', 'numerics', 'concurrency', 'native-boundary', 'fuzz-calls', 'fuzz-boundaries'];
const reducedKernels = 'avx2_fma';
// Their native tests only: the WASM backend has no C++ in it, and runs in the ordinary suite.
const nativeTests = 'on native|native and wasm agree|wasm agrees with native|native addon|golden cases';
// Lowest first, as native/isa/kernel_table.cc ranks them.
const kernelTables = ['portable', 'avx2_fma', 'avx512f'];

// LeakSanitizer stays off: node is not instrumented, and V8 keeps allocations alive to exit on
// purpose, which it would report as leaks. halt_on_error makes a UBSan finding fatal, as ASan's are.
const sanitizerEnv = {
  ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=1:print_summary=1',
  UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1:print_summary=1',
};
const reportPattern = /ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer/;

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function sanitizerRuntime() {
  const file = execFileSync(process.env.CC || 'gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(file) || !fs.existsSync(file)) {
    throw new Error(`test:asan: the compiler has no AddressSanitizer runtime (gcc -print-file-name=libasan.so gave "${file}")`);
  }
  return fs.realpathSync(file);
}

function build() {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.status !== 0) process.exit(1);
  return r.stdout.trim().split('\n').pop();
}

/** The tables this CPU runs: every one up to the best the instrumented addon picks by itself. */
function cpuTables(env) {
  const best = execFileSync(process.execPath, ['-p', 'require(process.env.CELLSCAN_ADDON_PATH).kernels()'], { env, encoding: 'utf8' }).trim();
  if (!kernelTables.includes(best)) throw new Error(`test:asan: the addon names an unknown kernel table "${best}"`);
  return kernelTables.slice(0, kernelTables.indexOf(best) + 1).reverse();
}

function runJest(env, suites, summaryFile) {
  const args = [
    require.resolve('jest/bin/jest', { paths: [root] }),
    '--json', `--outputFile=${summaryFile}`, '--testNamePattern', nativeTests,
    ...suites.map((s) => `test/${s}.test.ts`),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'pipe'] });
    let log = '';
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      log += chunk;
    });
    child.on('close', (status, signal) => resolve({ status, signal, log }));
  });
}

function readSummary(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

async function main() {
  const started = Date.now();
  const reduced = process.argv.includes('--reduced');
  const binary = process.argv.includes('--no-build') ? path.join(root, 'build', 'asan', 'build', 'Release', 'cellscan.node') : build();
  const suites = (option('suites') ?? (reduced ? reducedSuites : allSuites).join(',')).split(',');
  const env = {
    ...process.env,
    ...sanitizerEnv,
    LD_PRELOAD: [sanitizerRuntime(), process.env.LD_PRELOAD].filter(Boolean).join(' '),
    CELLSCAN_ADDON_PATH: binary,
    CELLSCAN_BACKEND: 'native',
    CELLSCAN_REQUIRE_BACKENDS: 'native',
  };
  const available = cpuTables(env);
  // (A CPU without AVX2 runs the reduced set on the portable table.)
  const reducedTables = available.includes(reducedKernels) ? [reducedKernels] : available.slice(-1);
  const wanted = option('kernels') ? option('kernels').split(',') : reduced ? reducedTables : available;
  const missing = wanted.filter((k) => !available.includes(k));
  if (missing.length) throw new Error(`test:asan: this CPU cannot run kernel table ${missing.join(', ')} (it runs ${available.join(', ')})`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-asan-'));
  let passed = 0;
  let failed = 0;
  const problems = [];
  for (const kernels of wanted) {
    console.log(`test:asan: kernel table ${kernels}: ${suites.join(', ')}`);
    const summaryFile = path.join(tmp, `${kernels}.json`);
    const r = await runJest({ ...env, CELLSCAN_KERNELS: kernels }, suites, summaryFile);
    const s = readSummary(summaryFile);
    passed += s.numPassedTests ?? 0;
    failed += (s.numFailedTests ?? 0) + (s.numRuntimeErrorTestSuites ?? 0);
    if (reportPattern.test(r.log)) problems.push(`${kernels}: a sanitizer report (above)`);
    if (r.status !== 0) problems.push(`${kernels}: jest exited with ${r.signal ?? `status ${r.status}`}`);
    if (!s.numTotalTests) problems.push(`${kernels}: no test ran`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const p of problems) console.log(`test:asan: ${p}`);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`test:asan: ${passed} passed, ${failed} failed (kernel tables ${wanted.join(', ')}; ${suites.length} suites; ${seconds} s)`);
  process.exit(problems.length || failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
