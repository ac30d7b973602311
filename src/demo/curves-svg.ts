// Learning curves as a standalone SVG: held-out MSE (log scale) against training step, one line
// per cell, and the variance of the target (what predicting the mean scores) as a dashed line.
import type { AddingResult } from './adding';

const COLORS: Record<string, string> = { lstm: '#1f77b4', gru: '#2ca02c', rnn: '#d62728' };

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

export function learningCurvesSvg(results: AddingResult[], title: string, baseline: number): string {
  const W = 760;
  const H = 420;
  const left = 70;
  const right = 150;
  const top = 40;
  const bottom = 50;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const maxStep = Math.max(1, ...results.flatMap((r) => r.curve.map((p) => p.step)));
  const yMin = 1e-4;
  const yMax = 1;
  const x = (step: number) => left + (step / maxStep) * plotW;
  const y = (mse: number) => {
    const v = Math.min(yMax, Math.max(yMin, mse));
    return top + ((Math.log10(yMax) - Math.log10(v)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let e = -4; e <= 0; e++) {
    const yy = y(10 ** e).toFixed(1);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${left + plotW}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">1e${e}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const step = Math.round((maxStep * i) / 5);
    const xx = x(step).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${top + plotH}" x2="${xx}" y2="${top + plotH + 5}" stroke="#333"/>`);
    parts.push(`<text x="${xx}" y="${top + plotH + 18}" text-anchor="middle">${step}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${H - 12}" text-anchor="middle">training step</text>`);
  parts.push(
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">held-out MSE (log scale)</text>`,
  );
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
