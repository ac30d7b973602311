// `cellscan demo` (what `npm start` runs): the adding problem for each cell with a progress bar,
// then a table and an SVG of the learning curves.
import * as fs from 'fs';
import * as path from 'path';
import { MultiBar, Presets } from 'cli-progress';
import { currentBackend } from '../backend/select';
import { type AddingConfig, type AddingResult, type Cell, SOLVED_ACCURACY, TOLERANCE, trainAdding } from './adding';
import { learningCurvesSvg } from './curves-svg';

export interface DemoOptions {
  cells: Cell[];
  length: number;
  steps: number;
  hidden: number;
  batch: number;
  lr: number;
  seed: number;
  out: string;
  /** Draw progress bars (off when output is not a terminal, e.g. in tests and CI logs). */
  progress: boolean;
}

// Both markers are uniform in [0, 1): the target's variance is 2/12, what predicting the mean scores.
const MEAN_PREDICTOR_MSE = 2 / 12;

function table(results: AddingResult[], backend: string): string {
  const head = ['cell', 'held-out MSE', `within ${TOLERANCE}`, `solved (≥${SOLVED_ACCURACY * 100}%) at step`, 'steps/s', 'backend'];
  const rows = results.map((r) => [
    r.cell.toUpperCase(),
    r.final.mse.toFixed(4),
    `${(r.final.accuracy * 100).toFixed(1)}%`,
    r.solvedAt === undefined ? 'not solved' : String(r.solvedAt),
    r.stepsPerSecond.toFixed(1),
    backend,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function runDemo(o: DemoOptions): AddingResult[] {
  const backend = currentBackend();
  console.log(
    `The adding problem: ${o.length} (value, marker) pairs, one marker in each half; the answer is the sum of the ` +
      `two marked values.\nEach cell trains ${o.steps} Adam steps (batch ${o.batch}, hidden ${o.hidden}) on the ${backend} backend. ` +
      `Predicting the mean scores MSE ${MEAN_PREDICTOR_MSE.toFixed(3)}.\n`,
  );
  const bars = o.progress
    ? new MultiBar(
        { format: ' {cell} |{bar}| {value}/{total} steps | loss {loss} | held-out within 0.04: {accuracy} | {rate} steps/s', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  const results: AddingResult[] = [];
  for (const cell of o.cells) {
    const config: AddingConfig = {
      cell,
      length: o.length,
      hidden: o.hidden,
      batch: o.batch,
      steps: o.steps,
      lr: o.lr,
      clip: 1,
      seed: o.seed,
      evalEvery: Math.max(1, Math.round(o.steps / 50)),
      evalSize: 512,
    };
    const bar = bars?.create(o.steps, 0, { cell: cell.toUpperCase().padEnd(4), loss: '-', accuracy: '-', rate: '-' });
    const started = Date.now();
    let accuracy = '-';
    const result = trainAdding(config, (step, loss, evaluation) => {
      if (evaluation) accuracy = `${(evaluation.accuracy * 100).toFixed(1)}%`;
      if (bar && (step % 10 === 0 || step === o.steps)) {
        const rate = (step / ((Date.now() - started) / 1000)).toFixed(1);
        bar.update(step, { loss: loss.toFixed(4), accuracy, rate });
      }
    });
    if (!bars) {
      console.log(`${cell.toUpperCase()}: ${o.steps} steps, held-out MSE ${result.final.mse.toFixed(4)}, ${(result.final.accuracy * 100).toFixed(1)}% within ${TOLERANCE}`);
    }
    results.push(result);
  }
  bars?.stop();

  console.log(`\n${table(results, backend)}\n`);
  const svg = learningCurvesSvg(
    results,
    `Adding problem, T = ${o.length}: held-out MSE while training (${backend} backend)`,
    MEAN_PREDICTOR_MSE,
  );
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
  fs.writeFileSync(o.out, svg);
  console.log(`Learning curves written to ${path.resolve(o.out)}`);
  return results;
}
