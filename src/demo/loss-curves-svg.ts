// Character-model learning curves as a standalone SVG (the style of curves-svg.ts): held-out loss
// against training step, one solid line per run with its best point marked, and each run's
// training loss (masks on, as trained) dashed in the same colour.
import { bestValid, type CurvePoint } from './charlm';
import { chartFrame, chartOpening, escapeXml, stepAxisAndFrame } from './svg-chart';

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** A tick spacing of 1, 2 or 5 times a power of ten giving about `n` ticks over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

export function lossCurvesSvg(runs: { label: string; curve: readonly CurvePoint[] }[], title: string): string {
  const frame = chartFrame(190);
  const { left, top, plotW, plotH } = frame;
  const points = runs.flatMap((r) => r.curve);
  const maxStep = Math.max(1, ...points.map((p) => p.step));
  // The range shows where the runs part: the held-out losses after the first fifth of the steps
  // set its top (the steep start leaves through it), the lowest loss of any kind its bottom.
  const late = points.filter((p) => p.step >= maxStep / 5);
  const lateValid = late.flatMap((p) => (p.validLoss === null ? [] : [p.validLoss]));
  const shown = [...points.flatMap((p) => (p.validLoss === null ? [] : [p.validLoss])), ...points.map((p) => p.trainLoss)].filter(Number.isFinite);
  let lo = Math.min(...shown);
  let hi = Math.max(...(lateValid.length > 0 ? lateValid : late.map((p) => p.trainLoss)).filter(Number.isFinite), lo);
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];
  const tick = niceStep(hi - lo, 6);
  const yMin = Math.floor(lo / tick) * tick;
  const yMax = Math.ceil(hi / tick) * tick;
  const x = (step: number) => left + (step / maxStep) * plotW;
  const y = (loss: number) => top + ((yMax - loss) / (yMax - yMin)) * plotH;
  const parts = chartOpening(frame, title, [
    `<defs><clipPath id="plot"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`,
  ]);
  for (let i = 0; yMin + i * tick <= yMax + tick / 1e6; i++) {
    const v = yMin + i * tick;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v.toFixed(tick < 0.1 ? 2 : 1)}</text>`);
  }
  parts.push(...stepAxisAndFrame(frame, maxStep, x, 'loss (nats per character)'));
  const legendX = left + plotW + 14;
  runs.forEach((r, i) => {
    const color = COLORS[i % COLORS.length];
    const line = (key: 'trainLoss' | 'validLoss') =>
      r.curve
        .filter((p) => p[key] !== null && Number.isFinite(p[key]))
        .map((p) => `${x(p.step).toFixed(1)},${y(p[key]!).toFixed(1)}`)
        .join(' ');
    parts.push(`<polyline class="train" points="${line('trainLoss')}" fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 4" opacity="0.7" clip-path="url(#plot)"/>`);
    parts.push(`<polyline class="valid" points="${line('validLoss')}" fill="none" stroke="${color}" stroke-width="2.5" clip-path="url(#plot)"/>`);
    const best = bestValid(r.curve);
    if (best) parts.push(`<circle cx="${x(best.step).toFixed(1)}" cy="${y(best.validLoss).toFixed(1)}" r="4.5" fill="${color}"/>`);
    const ly = top + 14 + i * 40;
    parts.push(`<line x1="${legendX}" y1="${ly}" x2="${legendX + 24}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${legendX + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(r.label)}</text>`);
    if (best) parts.push(`<text x="${legendX + 30}" y="${ly + 16}" dominant-baseline="middle" fill="#555">best ${best.validLoss.toFixed(3)} at ${best.step}</text>`);
  });
  const ky = top + 14 + runs.length * 40 + 10;
  parts.push(`<line x1="${legendX}" y1="${ky}" x2="${legendX + 24}" y2="${ky}" stroke="#555" stroke-width="2.5"/>`);
  parts.push(`<text x="${legendX + 30}" y="${ky}" dominant-baseline="middle">held-out text</text>`);
  parts.push(`<line x1="${legendX}" y1="${ky + 20}" x2="${legendX + 24}" y2="${ky + 20}" stroke="#555" stroke-width="1.5" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${legendX + 30}" y="${ky + 20}" dominant-baseline="middle">training batches</text>`);
  parts.push(`<circle cx="${legendX + 12}" cy="${ky + 40}" r="4.5" fill="#555"/>`);
  parts.push(`<text x="${legendX + 30}" y="${ky + 40}" dominant-baseline="middle">best held-out</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
