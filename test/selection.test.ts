// Backend selection (SPEC §4), each case in a fresh Node process on the built package: what
// CELLSCAN_BACKEND forces, what `auto` picks (the probe when both load), and how an unavailable
// backend is reported. A backend is made unavailable by hiding its build output from fs.existsSync,
// or by taking WebAssembly SIMD away, in that process only.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { backends, currentBackend, setNumThreads, useBackend } from '../src';
import { loadedBackends } from './helpers/backends';

const root = path.resolve(__dirname, '..');
const loaded = loadedBackends();
const hasBoth = loaded.includes('native') && loaded.includes('wasm');

interface Run {
  status: number | null;
  out: string;
  err: string;
}

/** Runs `code` in a fresh process with the given environment, after hiding some build outputs. */
function runNode(code: string, env: Record<string, string> = {}, hide: string[] = [], prelude = ''): Run {
  const hiding = `const fs = require('fs'); const exists = fs.existsSync;
fs.existsSync = (p) => !${JSON.stringify(hide)}.some((s) => String(p).endsWith(s)) && exists(p);`;
  const r = spawnSync(process.execPath, ['-e', `${hiding}\n${prelude}\n${code}`], {
    cwd: root,
    env: { ...process.env, CELLSCAN_BACKEND: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

const report = `const c = require('./dist');
const name = c.currentBackend();
console.log(JSON.stringify({ name, backends: c.backends(), probe: require('./dist/backend/select').autoProbe() }));`;

function parsed(r: Run) {
  expect(r.err).toBe('');
  return JSON.parse(r.out) as {
    name: string;
    backends: { name: string; available: boolean; reason?: string; threads: number }[];
    probe?: Record<string, number>;
  };
}

const addon = 'cellscan.node';
const wasmModule = 'cellscan.wasm';
const noSimd = 'WebAssembly.validate = () => false;';

describe('CELLSCAN_BACKEND forces a backend', () => {
  test.each(loaded)('%s', (name) => {
    const r = parsed(runNode(report, { CELLSCAN_BACKEND: name }));
    expect(r.name).toBe(name);
    // Forcing skips the probe.
    expect(r.probe).toBeUndefined();
  });

  test('an unknown name is an error naming the variable and the choices', () => {
    const r = runNode(report, { CELLSCAN_BACKEND: 'webgpu' });
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/RangeError: CELLSCAN_BACKEND: value must be one of "native", "wasm", "auto", got "webgpu"/);
  });

  test('forcing native without the addon fails and says why', () => {
    const r = runNode(report, { CELLSCAN_BACKEND: 'native' }, [addon]);
    expect(r.status).not.toBe(0);
    // Every place the loader tried, why each failed, and the command that builds the addon.
    expect(r.err).toMatch(
      /Error: cellscan: the native backend was requested but cannot be used: no addon binary can be used on \S+ \(Node .*\)\. Tried:\n {2}built from source .*build[\\/]Release[\\/]cellscan\.node: not there: .*\n {2}prebuilt .*prebuilds[\\/]\S+[\\/]cellscan\.node: not there: .*\nTo build it from source, run `npx cellscan build-native`/,
    );
  });

  test('forcing wasm without the module fails and says why', () => {
    const r = runNode(report, { CELLSCAN_BACKEND: 'wasm' }, [wasmModule]);
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/Error: cellscan: the wasm backend was requested but cannot be used: the WebAssembly module was not built \(.*cellscan\.wasm is missing\); run `npm run build:wasm`/);
  });

  test('forcing wasm on an engine without WebAssembly SIMD fails and says why', () => {
    const r = runNode(report, { CELLSCAN_BACKEND: 'wasm' }, [], noSimd);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('the wasm backend was requested but cannot be used: this JavaScript engine lacks WebAssembly SIMD (wasm-simd128)');
  });
});

describe('auto', () => {
  test('picks a backend that loaded', () => {
    const r = parsed(runNode(report));
    expect(r.backends.find((b) => b.name === r.name)?.available).toBe(true);
  });

  (hasBoth ? test : test.skip)('with both loaded, runs the probe once and keeps the faster', () => {
    // Choosing `auto` again reuses the first probe's times rather than measuring anew.
    const again = `require('./dist').useBackend('auto'); const first = require('./dist/backend/select').autoProbe();
require('./dist').useBackend('auto'); if (require('./dist/backend/select').autoProbe() !== first) throw new Error('probed twice');`;
    const r = parsed(runNode(`${again}\n${report}`));
    expect(Object.keys(r.probe!).sort()).toEqual(['native', 'wasm']);
    for (const ms of Object.values(r.probe!)) expect(ms).toBeGreaterThan(0);
    // Native is several times faster than wasm on any shape here, the probe's included: a probe
    // or a choice that breaks picks wasm.
    expect(r.name).toBe('native');
  });

  test('without the addon, serves on wasm with no probe, and reports why native is missing', () => {
    const r = parsed(runNode(report, {}, [addon]));
    expect(r.name).toBe('wasm');
    expect(r.probe).toBeUndefined();
    const native = r.backends.find((b) => b.name === 'native')!;
    expect(native).toMatchObject({ available: false, threads: 0 });
    expect(native.reason).toMatch(/^no addon binary can be used on /);
    expect(native.reason).toContain('`npx cellscan build-native`');
  });

  (loaded.includes('native') ? test : test.skip)('without WebAssembly SIMD, serves on native', () => {
    const r = parsed(runNode(report, {}, [], noSimd));
    expect(r.name).toBe('native');
    expect(r.backends.find((b) => b.name === 'wasm')).toMatchObject({ available: false, threads: 0 });
  });

  test('with nothing loadable, the error lists every reason', () => {
    const r = runNode(report, {}, [addon, wasmModule]);
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/Error: cellscan: no backend can be used \(native: no addon binary can be used [\s\S]*; wasm: the WebAssembly module was not built .*\)/);
  });
});

describe('in this process', () => {
  afterAll(() => useBackend('auto'));

  test('useBackend with an unknown name throws and keeps the current backend', () => {
    useBackend('auto');
    const before = currentBackend();
    expect(() => useBackend('gpu' as never)).toThrow(RangeError);
    expect(() => useBackend('gpu' as never)).toThrow(/^useBackend: name must be one of "native", "wasm", "auto", got "gpu"$/);
    expect(currentBackend()).toBe(before);
  });

  (loaded.includes('wasm') ? test : test.skip)('wasm reports features and the threads setNumThreads gives it', () => {
    const wasm = () => backends().find((b) => b.name === 'wasm')!;
    expect(wasm().features).toEqual(expect.arrayContaining(['wasm-simd128']));
    expect(wasm().features.some((f) => /^gemm:f32_gemm_\d+x\d+__wasmsimd$/.test(f))).toBe(true);
    setNumThreads(3);
    expect(wasm().threads).toBe(3);
    setNumThreads(2);
    useBackend('wasm');
    expect(currentBackend()).toBe('wasm');
  });
});
