// What the two learning-curve plots (curves-svg.ts, loss-curves-svg.ts) share: the page and plot
// sizes, the training-step axis, the frame and its labels, so the two figures match side by side.

export interface ChartFrame {
  W: number;
  H: number;
  left: number;
  top: number;
  plotW: number;
  plotH: number;
}

/** A 760×420 page with the plot inset; `right` leaves room for the legend. */
export function chartFrame(right: number): ChartFrame {
  const W = 760;
  const H = 420;
  const left = 70;
  const top = 40;
  const bottom = 50;
  return { W, H, left, top, plotW: W - left - right, plotH: H - top - bottom };
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** The svg element's opening, a white page and the title; `extra` lines go before the title. */
export function chartOpening(f: ChartFrame, title: string, extra: string[] = []): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.W}" height="${f.H}" viewBox="0 0 ${f.W} ${f.H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${f.W}" height="${f.H}" fill="white"/>`,
    ...extra,
    `<text x="${f.left}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

/** Six step ticks along the bottom, the frame, and the two axis labels. */
export function stepAxisAndFrame(f: ChartFrame, maxStep: number, x: (step: number) => number, yLabel: string): string[] {
  const { left, top, plotW, plotH, H } = f;
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const step = Math.round((maxStep * i) / 5);
    const xx = x(step).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${top + plotH}" x2="${xx}" y2="${top + plotH + 5}" stroke="#333"/>`);
    parts.push(`<text x="${xx}" y="${top + plotH + 18}" text-anchor="middle">${step}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${H - 12}" text-anchor="middle">training step</text>`);
  parts.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`);
  return parts;
}
