// The golden fixtures of SPEC §6, read at run time with the package's own loader, and the
// tolerance check every comparison uses.
import * as fs from 'fs';
import * as path from 'path';
import { loadSafetensors, type SafetensorsMap } from '../../src/io/safetensors';
import type { Tensor } from '../../src/tensor';
import type { RefConfig } from '../reference/rnn64';

// The repository's own copy (SPEC §6): a fresh clone anywhere has it. CELLSCAN_FIXTURES points the
// suite at another folder of the same files (test/fixtures/generate.py --write makes one).
function resolveFixturesDir(): string {
  return process.env.CELLSCAN_FIXTURES || path.resolve(__dirname, '..', 'fixtures');
}

export const FIXTURES_DIR = resolveFixturesDir();

export const OUTPUT_TOL = { atol: 2e-5, rtol: 1e-4 };
export const GRAD_TOL = { atol: 1e-4, rtol: 1e-3 };

/** Single-step cell cases: tensors input [B, I], h0, c0, h, c, dh, dc and the cell's parameters. */
export type CellMode = 'LSTMCell' | 'GRUCell' | 'RNNCell_TANH' | 'RNNCell_RELU';

/** A layer's settings as the reference takes them, with the case's sizes and what it holds. */
export interface FixtureConfig extends Omit<RefConfig, 'mode'> {
  mode: RefConfig['mode'] | CellMode;
  seqLen: number;
  batch: number;
  hasInitialState: boolean;
  hasLengths: boolean;
  hasGradients: boolean;
  // The other variants (absent in plain cases): the layer is built with them.
  dropout?: number;
  recurrentDropout?: number;
  weightDropout?: number;
  /** Computed in evaluation mode with a tape: forward(x, { tape: true }), then backward. */
  tape?: boolean;
}

export interface Fixture {
  name: string;
  config: FixtureConfig;
  tensors: SafetensorsMap;
}

/** Every fixture file name; an empty folder is a failure for the caller to assert, never a skip. */
export function fixtureFiles(): string[] {
  if (!fs.existsSync(FIXTURES_DIR)) return [];
  return fs.readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.safetensors')).sort();
}

export function loadFixture(file: string): Fixture {
  const tensors = loadSafetensors(new Uint8Array(fs.readFileSync(path.join(FIXTURES_DIR, file))));
  const c = JSON.parse(tensors.metadata.config);
  const config: FixtureConfig = {
    ...c,
    projSize: c.projSize ?? 0,
    peepholes: c.peepholes ?? false,
    linearBeforeReset: c.linearBeforeReset ?? true,
    hasGradients: c.hasGradients ?? true,
  };
  return { name: file, config, tensors };
}

/** Fixture parameter tensors (PyTorch names). */
export function fixtureParameters(f: Fixture): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) if (name.startsWith('weight_') || name.startsWith('bias_')) out.set(name, t);
  return out;
}

/**
 * Elementwise |a − b| ≤ atol + rtol·|b|. Returns '' when every element passes, else the count and
 * the worst element, so a failing expect(...).toBe('') says where and by how much.
 */
export function mismatch(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol: number },
): string {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (tol.atol + tol.rtol * Math.abs(expected[i]));
    if (!(excess <= 0)) {
      bad++;
      if (worst < 0 || !(excess <= worstExcess)) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad === 0) return '';
  return `${what}: ${bad}/${expected.length} out of tolerance; worst [${worst}] got ${actual[worst]}, expected ${expected[worst]}`;
}
