// Native and wasm compute the same operations with different code (C++ with AVX2/FMA against
// AssemblyScript on f32x4, different activations, different tiles): on every variant and on random
// shapes their forward outputs and all gradients must agree within SPEC §6's tolerances. The sizes
// are chosen to reach every scalar tail (hidden and input sizes that are not multiples of 4, batch 1
// and 7, GEMM edges in M, N and K) and the GEMM's cache blocks (K past 256, M past 128, N past 2048).
import { useBackend } from '../src';
import { loadedBackends } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import { fixedCases, inputsFor, layerFor, randomCases, trainStep } from './helpers/training-cases';

const forwardResults = new Set(['output', 'hN', 'cN']);
const hasBoth = ['native', 'wasm'].every((b) => loadedBackends().includes(b as 'native' | 'wasm'));

const required = (process.env.CELLSCAN_REQUIRE_BACKENDS ?? '').split(',');
if (hasBoth || (required.includes('native') && required.includes('wasm'))) {
  test('both backends load', () => expect(loadedBackends().sort()).toEqual(['native', 'wasm']));
} else {
  test.skip(`wasm agrees with native: only ${loadedBackends().join(', ') || 'no backend'} loaded here`, () => {});
}

const describeBoth = hasBoth ? describe : describe.skip;

describeBoth('wasm agrees with native', () => {
  afterAll(() => useBackend('auto'));

  test.each([...fixedCases, ...randomCases(24, 2024)])('$name', (c) => {
    const layer = layerFor(c);
    const x = inputsFor(c);
    useBackend('native');
    const native = trainStep(layer, c, x);
    useBackend('wasm');
    const wasm = trainStep(layer, c, x);
    expect([...wasm.keys()].sort()).toEqual([...native.keys()].sort());
    const problems = [...native].map(([name, expected]) =>
      mismatch(name, wasm.get(name)!, expected, forwardResults.has(name) ? OUTPUT_TOL : GRAD_TOL),
    );
    expect(problems.filter((p) => p !== '')).toEqual([]);
  });
});
