// Sections of bench/RESULTS.md that other commands than `npm run bench` write (the load test, the
// streaming steps in their own processes): each replaces only itself, and `npm run bench`, which
// rewrites the file, carries them over.

/** A section of `markdown` from its heading line (`## …`) to the next heading, or undefined. */
export function sectionOf(markdown: string, heading: string): string | undefined {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return undefined;
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  return lines.slice(start, end).join('\n').replace(/\n*$/, '\n');
}

/** `markdown` with `section` (whose first line is its heading) in place of its earlier self, or after the rest. */
export function placeSection(markdown: string, section: string): string {
  const heading = section.split('\n', 1)[0].trim();
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return `${markdown.replace(/\n*$/, '')}\n\n${section.replace(/\n*$/, '')}\n`;
  let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (end < 0) end = lines.length;
  const before = lines.slice(0, start).join('\n').replace(/\n*$/, '');
  const after = lines.slice(end).join('\n');
  return `${before}\n\n${section.replace(/\n*$/, '')}\n${after ? `\n${after}` : ''}`;
}

/** The heading of the report's WebAssembly section (bench/report.ts wasmSection). */
export const WASM_HEADING = '## WebAssembly backend: 1 thread, all threads, TF.js and the XNNPACK ceiling';

/** The headings of the sections written by other commands, which `npm run bench` keeps. */
export const KEPT_HEADINGS = [
  '## Streaming steps, each runtime in its own process',
  '## Serving',
  '## Threads beyond the cores, a busy neighbour, denormal inputs',
  // Written by `npm run bench` itself when the wasm backend runs, and alone by `npm run bench:wasm`:
  // kept only from runs that did not write it.
  WASM_HEADING,
  '## Past one machine: InferenceQueue on BullMQ/Redis',
];
