// Backend reporting and selection. Which backends must load is given by CELLSCAN_REQUIRE_BACKENDS
// (CI sets it), so a backend that silently failed to build fails here instead of being skipped.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { backends, currentBackend, setNumThreads, useBackend } from '../src';

const root = path.resolve(__dirname, '..');

function runNode(code: string, env: Record<string, string>): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

test('every backend named in CELLSCAN_REQUIRE_BACKENDS loaded', () => {
  const required = (process.env.CELLSCAN_REQUIRE_BACKENDS ?? '').split(',').filter(Boolean);
  const report = backends();
  for (const name of required) {
    const b = report.find((r) => r.name === name);
    expect({ name, available: b?.available, reason: b?.reason }).toEqual({ name, available: true, reason: undefined });
  }
});

test('backends() reports each backend with features and threads, or why it is unavailable', () => {
  const report = backends();
  expect(report.map((b) => b.name)).toEqual(['native', 'wasm']);
  for (const b of report) {
    if (b.available) {
      expect(b.features.length).toBeGreaterThan(0);
      expect(b.threads).toBeGreaterThanOrEqual(1);
      expect(b.reason).toBeUndefined();
    } else {
      expect(b.reason).toMatch(/\w/);
      expect(b.threads).toBe(0);
    }
  }
  const native = report.find((b) => b.name === 'native')!;
  if (native.available) expect(native.features.some((f) => /^kernels:(avx512f|avx2_fma|portable)$/.test(f))).toBe(true);
});

test('native says which binary it loaded, or names every place tried and the command that builds one', () => {
  const [native, wasm] = backends();
  if (native.available) {
    expect(native.binary && ['source', 'prebuilt'].includes(native.binary.origin)).toBe(true);
    const where = native.binary!.origin === 'source' ? /build[\\/]Release[\\/]cellscan\.node$/ : /prebuilds[\\/][\w-]+[\\/]cellscan\.node$/;
    expect(native.binary!.path).toMatch(where);
  } else {
    expect(native.binary).toBeUndefined();
    expect(native.reason).toMatch(/build[\\/]Release[\\/]cellscan\.node: /);
    expect(native.reason).toMatch(/prebuilds[\\/][\w-]+[\\/]cellscan\.node: /);
    expect(native.reason).toContain('`npx cellscan build-native`');
  }
  expect(wasm.binary).toBeUndefined();
});

test('setNumThreads reaches the loaded backends', () => {
  const before = backends().filter((b) => b.available);
  setNumThreads(3);
  for (const b of backends().filter((x) => x.available)) expect(b.threads).toBe(3);
  setNumThreads(before[0]?.threads ?? 2);
});

test('useBackend("auto") picks an available backend and currentBackend names it', () => {
  useBackend('auto');
  const name = currentBackend();
  expect(backends().find((b) => b.name === name)?.available).toBe(true);
});

describe('CELLSCAN_BACKEND and CELLSCAN_NUM_THREADS (fresh processes)', () => {
  const probe = "const c = require('./dist'); console.log(c.currentBackend(), c.backends().find(b => b.available).threads)";

  test('an unknown backend name is an error naming the variable', () => {
    const r = runNode(probe, { CELLSCAN_BACKEND: 'gpu' });
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/RangeError: CELLSCAN_BACKEND: value must be one of "native", "wasm", "auto", got "gpu"/);
  });

  test('forcing each loaded backend selects it', () => {
    for (const b of backends().filter((x) => x.available)) {
      const r = runNode(probe, { CELLSCAN_BACKEND: b.name });
      expect(r.err).toBe('');
      expect(r.out.split(' ')[0]).toBe(b.name);
    }
  });

  test('forcing an unavailable backend fails loudly with the reason', () => {
    for (const b of backends().filter((x) => !x.available)) {
      const r = runNode(probe, { CELLSCAN_BACKEND: b.name });
      expect(r.status).not.toBe(0);
      expect(r.err).toContain(`the ${b.name} backend was requested but cannot be used`);
    }
  });

  test('CELLSCAN_NUM_THREADS sets the default thread count, and bad values are errors', () => {
    const ok = runNode(probe, { CELLSCAN_NUM_THREADS: '3' });
    expect(ok.err).toBe('');
    // The first available backend reports it: both run that many threads.
    expect(ok.out.split(' ')[1]).toBe('3');
    const bad = runNode(probe, { CELLSCAN_NUM_THREADS: 'many' });
    expect(bad.err).toMatch(/RangeError: CELLSCAN_NUM_THREADS: value must be an integer in 1..256, got "many"/);
  });
});
