// RESULTS.md: machine, settings, and one row per shape and runtime.
import type { Machine } from './machine';
import { type Shape, describeShape, forwardFlops } from './shapes';

export interface Result {
  shape: Shape;
  runtime: string;
  forwardMs: number;
  trainMs?: number;
}

const gflops = (flops: number, ms: number) => flops / ms / 1e6;
const fmt = (v: number | undefined, digits = 2) => (v === undefined ? '—' : v.toFixed(digits));

export function gflopsOf(r: Result): { forward: number; train?: number } {
  const f = forwardFlops(r.shape);
  return { forward: gflops(f, r.forwardMs), train: r.trainMs === undefined ? undefined : gflops(3 * f, r.trainMs) };
}

export function renderMarkdown(machine: Machine, threads: number, results: Result[]): string {
  const lines = [
    '# cellscan benchmark results',
    '',
    `Measured ${machine.date} by \`npm run bench\` on ${machine.cpu} (${machine.cores} cores visible), ` +
      `Node ${machine.node}, ${threads} thread(s). Native features: ${machine.features.join(', ') || 'n/a'}.`,
    '',
    'Median wall time per call (tinybench). FLOPs as SPEC §7: `D·2·T·B·G·H·(I+H)` forward, 3× for forward+backward.',
    '',
    '| shape | | runtime | forward ms | forward GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const g = gflopsOf(r);
    lines.push(
      `| ${r.shape.id} | ${describeShape(r.shape)} | ${r.runtime} | ${fmt(r.forwardMs, 3)} | ${fmt(g.forward, 1)} | ` +
        `${fmt(r.trainMs, 3)} | ${fmt(g.train, 1)} |`,
    );
  }
  return lines.join('\n') + '\n';
}
