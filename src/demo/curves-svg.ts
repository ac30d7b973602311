// Learning curves as a standalone SVG: held-out MSE (log scale) against training step, one line
// per cell, and the variance of the target (what predicting the mean scores) as a dashed line.
import type { AddingResult } from './adding';
import { chartFrame, chartOpening, stepAxisAndFrame } from './svg-chart';

const COLORS: Record<string, string> = { lstm: '#1f77b4', gru: '#2ca02c', rnn: '#d62728' };

export function learningCurvesSvg(results: AddingResult[], title: string, baseline: number): string {
  const frame = chartFrame(150);
  const { left, top, plotW, plotH } = frame;
  const maxStep = Math.max(1, ...results.flatMap((r) => r.curve.map((p) => p.step)));
  const yMin = 1e-4;
  const yMax = 1;
  const x = (step: number) => left + (step / maxStep) * plotW;
  const y = (mse: number) => {
    const v = Math.min(yMax, Math.max(yMin, mse));
    return top + ((Math.log10(yMax) - Math.log10(v)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  };
  const parts = chartOpening(frame, title);
  for (let e = -4; e <= 0; e++) {
    const yy = y(10 ** e).toFixed(1);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`);
  }
  parts.push(...stepAxisAndFrame(frame, maxStep, x, 'held-out MSE (log scale)'));
  const by = y(baseline).toFixed(1);
  parts.push(`<line x1="${left}" y1="${by}" x2="${left + plotW}" y2="${by}" stroke="#888" stroke-dasharray="6 4"/>`);
  results.forEach((r, i) => {
    const color = COLORS[r.cell] ?? '#555';
    const points = r.curve.map((p) => `${x(p.step).toFixed(1)},${y(p.mse).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const ly = top + 14 + i * 20;
    parts.push(`<line x1="${left + plotW + 14}" y1="${ly}" x2="${left + plotW + 38}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${left + plotW + 44}" y="${ly}" dominant-baseline="middle">${r.cell.toUpperCase()}</text>`);
  });
  const ly = top + 14 + results.length * 20;
  parts.push(`<line x1="${left + plotW + 14}" y1="${ly}" x2="${left + plotW + 38}" y2="${ly}" stroke="#888" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${left + plotW + 44}" y="${ly}" dominant-baseline="middle">predict the mean</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
