// Command-line values the bench commands share: positive numbers, shape lists and the report file.
import * as fs from 'fs';
import * as path from 'path';
import { SHAPES, type Shape } from './shapes';

/** `--name v` as a positive number (an integer when `integer`), or a RangeError naming the flag. */
export function positive(name: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new RangeError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A comma-separated list of shape ids (any case), each one of SHAPES. */
export function shapesOf(ids: string[]): Shape[] {
  return ids.map((id) => {
    const s = SHAPES.find((x) => x.id.toLowerCase() === id.trim().toLowerCase());
    if (!s) throw new RangeError(`--shapes: unknown shape ${JSON.stringify(id)}; known: ${SHAPES.map((x) => x.id).join(', ')}`);
    return s;
  });
}

/** Where a full run's report goes; committed, so a run of part of the suite never replaces it. */
export const FULL_REPORT = path.join('bench', 'RESULTS.md');
/** --out of the commands that write one section of the full report (queue, streaming, robustness, serve). */
export const SECTION_OUT_FLAG = { type: 'string', default: FULL_REPORT } as const;
/** Where a run of part of the suite goes without --out (/bench/out/ is ignored by git). */
export const SUBSET_REPORT = path.join('bench', 'out', 'RESULTS-subset.md');

/**
 * The report file: --out, or the default for a full run or a subset. `subset` names what made the
 * run partial (["--shapes S9", "--peers none"]), empty for a full run. Checked before anything is
 * measured: a folder that is missing or read-only would otherwise show only when the run is over.
 */
export function reportFile(given: string | undefined, subset: string[], sectionOnly: boolean): string {
  // The defaults' folders are made when the report is written.
  if (given === undefined) return subset.length > 0 && !sectionOnly ? SUBSET_REPORT : FULL_REPORT;
  if (subset.length > 0 && !sectionOnly && path.resolve(given) === path.resolve(FULL_REPORT)) {
    throw new RangeError(`--out ${given} holds the full run's report, and this run measures part of the suite (${subset.join(', ')}): give another --out or leave it to the default ${SUBSET_REPORT}`);
  }
  const dir = path.dirname(path.resolve(given));
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RangeError(`--out: cannot write ${given}: its folder ${dir} ${missing ? 'does not exist' : 'is not writable'}`);
  }
  return given;
}
