// What `cellscan train --log FILE.json` writes (the run's settings and its learning curve) and what
// `cellscan plot` reads back: a table of runs side by side, and their validation curves as an SVG.
import { bestValid, type CurvePoint, describeRegularization, type FullCharModelConfig, type TrainSettings } from './charlm';

export const TRAIN_LOG_FORMAT = 'cellscan-train-log-1';

export interface TrainLog {
  format: typeof TRAIN_LOG_FORMAT;
  /** The --text argument, as given. */
  text: string;
  /** "plain", or the regularization switched on. */
  regularization: string;
  config: FullCharModelConfig;
  settings: TrainSettings & { lr: number; seed: number; every: number; steps: number };
  backend: string;
  curve: CurvePoint[];
  best: { step: number; validLoss: number } | null;
}

export function makeTrainLog(o: Omit<TrainLog, 'format' | 'regularization' | 'best'>): TrainLog {
  return {
    format: TRAIN_LOG_FORMAT,
    text: o.text,
    regularization: describeRegularization(o.config),
    config: o.config,
    settings: o.settings,
    backend: o.backend,
    curve: o.curve,
    best: bestValid(o.curve) ?? null,
  };
}

/** A log from its JSON text; `name` (the file) goes into the error when it is not one. */
export function parseTrainLog(json: string, name: string): TrainLog {
  let log: Partial<TrainLog>;
  try {
    log = JSON.parse(json) as Partial<TrainLog>;
  } catch (e) {
    throw new TypeError(`${name} must be a training log (JSON) written by \`cellscan train --log\`, got invalid JSON: ${(e as Error).message}`);
  }
  if (log === null || typeof log !== 'object' || log.format !== TRAIN_LOG_FORMAT || !Array.isArray(log.curve)) {
    throw new TypeError(`${name} must be a training log written by \`cellscan train --log\` (format ${TRAIN_LOG_FORMAT}), got format ${JSON.stringify((log as { format?: unknown } | null)?.format)}`);
  }
  return log as TrainLog;
}

export function formatSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** A Markdown table, one row per run. */
export function comparisonTable(runs: { label: string; log: TrainLog }[]): string {
  const head = ['run', 'regularization', 'steps', 'final train loss', 'best valid loss', 'at step', 'final valid loss', 'time'];
  const rows = runs.map(({ label, log }) => {
    const last = log.curve[log.curve.length - 1];
    const best = bestValid(log.curve);
    return [
      label,
      log.regularization,
      String(last?.step ?? 0),
      last ? last.trainLoss.toFixed(3) : '-',
      best ? best.validLoss.toFixed(3) : '-',
      best ? String(best.step) : '-',
      last?.validLoss != null ? last.validLoss.toFixed(3) : '-',
      last ? formatSeconds(last.seconds) : '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
