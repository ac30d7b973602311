// The native addon carries several kernel tables (portable, AVX2+FMA, AVX-512F) and uses the best
// the CPU has. The lower ones must be right too (they serve older CPUs), so the golden-fixture,
// finite-difference, determinism, variant and cell suites run again here, in child jest processes,
// under every lower table this CPU can execute (CELLSCAN_KERNELS caps the choice). Only their native
// tests run there (the WASM backend has no kernel tables), plus the native/wasm agreement checks.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { backends } from '../src';
import { nativeKernelSets } from '../src/backend/native';

const root = path.resolve(__dirname, '..');
const native = backends().find((b) => b.name === 'native');
const inUse = native?.features.find((f) => f.startsWith('kernels:'))?.slice('kernels:'.length);
const lower = inUse ? nativeKernelSets.slice(0, nativeKernelSets.indexOf(inUse as never)) : [];

// What this CPU can run, read from the kernel's own report rather than from the addon.
const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
const has = (flag: string) => new RegExp(`^flags\\s*:.*\\b${flag}\\b`, 'm').test(cpuinfo);
const best = has('avx512f') ? 'avx512f' : has('avx2') && has('fma') ? 'avx2_fma' : 'portable';
const cap = process.env.CELLSCAN_KERNELS || undefined;
const expected = nativeKernelSets[Math.min(nativeKernelSets.indexOf(best), cap ? nativeKernelSets.indexOf(cap as never) : Infinity)];

if (!native?.available) {
  test.skip(`kernel tables: the native addon did not load here (${native?.reason ?? 'unknown'})`, () => {});
} else if (!cpuinfo) {
  test.skip('the kernel table in use is the best this CPU runs: no /proc/cpuinfo to read the CPU from', () => {});
} else {
  test(`the kernel table in use is the best this CPU runs (${expected})`, () => {
    expect(inUse).toBe(expected);
  });
}

if (native?.available && lower.length === 0) {
  test.skip(`lower kernel tables: ${inUse} is the lowest, none below it to check`, () => {});
}
const suites = lower.length ? describe.each(lower.map((k) => [k])) : () => () => undefined;
suites('kernel table %s', (kernels: string) => {
  test('fixtures, finite-difference gradients, thread determinism, variants and cells pass', () => {
    const suites = ['fixtures', 'gradients', 'determinism', 'variants', 'cells'].map((n) => `test/${n}.test.ts`);
    // The suites' per-backend describe blocks end in "on native"; the rest need no backend of their own.
    const nativeTests = 'on native|native and wasm agree|golden cases';
    const r = spawnSync(
      process.execPath,
      [require.resolve('jest/bin/jest'), '--json', '--silent', '--testNamePattern', nativeTests, ...suites],
      { cwd: root, env: { ...process.env, CELLSCAN_KERNELS: kernels, CELLSCAN_BACKEND: 'native' }, encoding: 'utf8' },
    );
    const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    const failures = summary.testResults.flatMap((s: { assertionResults: { status: string; fullName: string }[] }) =>
      // (The tests the name pattern leaves out are "pending".)
      s.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
    );
    expect(failures).toEqual([]);
    // Every suite ran some native tests.
    const ran = summary.testResults.map((t: { name: string; assertionResults: { status: string }[] }) =>
      [t.name.slice(root.length + 1), t.assertionResults.filter((a) => a.status === 'passed').length > 0]);
    expect(ran.sort()).toEqual(suites.map((n) => [n, true]).sort());
    expect(summary.numPassedTests).toBeGreaterThan(100);
  });
});
