// The SVG chart next to RESULTS.md: GFLOP/s per shape, one bar per runtime, forward and
// forward+backward in two panels. Log scale: the shapes span three decades (S9 to S7).
import type { Row } from './report';
import { forwardGflops, trainGflops } from './report';
import type { Shape } from './shapes';

const COLORS: Record<string, string> = {
  'cellscan native': '#1f6feb',
  'cellscan wasm, 1 thread': '#6cb6ff',
  onnxruntime: '#d1242f',
  tfjs: '#e8912d',
};
const FALLBACK = ['#2da44e', '#8250df', '#57606a'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

interface Panel {
  title: string;
  value: (r: Row) => number | undefined;
  /** A horizontal reference line (the SGEMM roofline), if any; the legend says what it is. */
  line?: { value: number };
}

export function renderChart(shapes: Shape[], rows: Row[], sgemmGflops: number | undefined, threads: number): string {
  // Variant rows (cellscan computing a peer's math) stay in the table; the chart keeps one bar per runtime.
  const charted = rows.filter((r) => !((r.variant || r.regularizer) && r.runtime.startsWith('cellscan')));
  const runtimes = [...new Set(charted.map((r) => r.runtime))];
  const color = (name: string) => COLORS[name] ?? FALLBACK[runtimes.indexOf(name) % FALLBACK.length];
  const panels: Panel[] = [
    {
      title: `Forward, GFLOP/s (log scale), ${threads} thread(s)`,
      value: forwardGflops,
      line: sgemmGflops === undefined ? undefined : { value: sgemmGflops },
    },
    { title: 'Forward + backward (training step), GFLOP/s (log scale)', value: trainGflops },
  ];
  const values = charted.flatMap((r) => panels.map((p) => p.value(r))).filter((v): v is number => v !== undefined && v > 0);
  if (sgemmGflops) values.push(sgemmGflops);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  // Headroom above the tallest bar for its rotated value label.
  const hi = Math.ceil(Math.log10(Math.max(...values, 10) * 3));

  const bar = 16;
  const groupGap = 18;
  const group = runtimes.length * bar + groupGap;
  const left = 64;
  // Wide enough for the title and legend even with a few shapes; groups spread over the width.
  const plotW = Math.max(shapes.length * group, 660);
  const step = plotW / Math.max(shapes.length, 1);
  const width = left + plotW + 24;
  const panelH = 260;
  const starred = charted.some((r) => r.variant);
  const top = starred ? 80 : 64; // title and legend (two rows when a note on other math is needed)
  const xLabelH = 44;
  const height = top + panels.length * (panelH + xLabelH + 28) + 8;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      'font-family="Helvetica, Arial, sans-serif" font-size="12">',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="16" font-weight="bold">cellscan vs peers: GFLOP/s per shape (higher is better)</text>`,
  ];
  // Legend.
  let lx = left;
  for (const name of runtimes) {
    out.push(`<rect x="${lx}" y="34" width="12" height="12" fill="${color(name)}"/>`);
    out.push(`<text x="${lx + 16}" y="44">${esc(name)}</text>`);
    lx += 28 + name.length * 7;
  }
  if (sgemmGflops !== undefined) {
    const label = `SGEMM, cellscan's kernel: ${fmt(sgemmGflops)}`;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="40" y2="40" stroke="#1f6feb" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${lx + 26}" y="44">${esc(label)}</text>`);
    lx += 36 + label.length * 7;
  }
  if (starred) {
    out.push(`<text x="${left}" y="62" fill="#57606a">* a peer computing other math than the shape's default (see the report beside this chart)</text>`);
  }

  panels.forEach((p, pi) => {
    const y0 = top + pi * (panelH + xLabelH + 28) + 20;
    const yOf = (v: number) => y0 + panelH - ((Math.log10(v) - lo) / (hi - lo)) * panelH;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(p.title)}</text>`);
    // Decade grid lines and labels.
    for (let e = lo; e <= hi; e++) {
      const y = yOf(10 ** e);
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#d0d7de"/>`);
      out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#57606a">${e < 0 ? (10 ** e).toFixed(-e) : 10 ** e}</text>`);
    }
    out.push(`<line x1="${left}" x2="${left}" y1="${y0}" y2="${y0 + panelH}" stroke="#57606a"/>`);
    shapes.forEach((s, si) => {
      const gx = left + si * step + (step - runtimes.length * bar) / 2;
      runtimes.forEach((name, ri) => {
        const r = charted.find((x) => x.shape.id === s.id && x.runtime === name);
        const v = r && p.value(r);
        const x = gx + ri * bar;
        if (v === undefined || !(v > 0)) {
          // Not measured: say so, so that the gap does not read as "zero".
          out.push(
            `<text transform="translate(${(x + bar / 2 + 3).toFixed(1)},${(y0 + panelH - 4).toFixed(1)}) rotate(-90)" ` +
              'font-size="10" fill="#8c959f">n/a</text>',
          );
          return;
        }
        const y = yOf(v);
        out.push(
          `<rect x="${x + 1}" y="${y.toFixed(1)}" width="${bar - 2}" height="${(y0 + panelH - y).toFixed(1)}" fill="${color(name)}">` +
            `<title>${esc(`${s.id} ${name}${r!.variant ? ` (${r!.variant})` : ''}: ${fmt(v)} GFLOP/s`)}</title></rect>`,
        );
        const label = `${fmt(v)}${r!.variant ? '*' : ''}`;
        out.push(
          `<text transform="translate(${(x + bar / 2 + 3).toFixed(1)},${(y - 4).toFixed(1)}) rotate(-90)" font-size="10">${esc(label)}</text>`,
        );
      });
      const cx = gx + (runtimes.length * bar) / 2;
      out.push(`<text x="${cx}" y="${y0 + panelH + 16}" text-anchor="middle" font-weight="bold">${s.id}</text>`);
      out.push(
        `<text x="${cx}" y="${y0 + panelH + 30}" text-anchor="middle" font-size="10" fill="#57606a">${esc(`${s.mode}${s.bidirectional ? ' bi' : ''} B${s.B}`)}</text>`,
      );
    });
    if (p.line) {
      const y = yOf(p.line.value);
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#1f6feb" stroke-dasharray="6 4"/>`);
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
