// npm run bench [-- --shapes S1,S3 --backends native --threads 2 --time 1000 --out bench/RESULTS.md]
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { backends, setNumThreads, useBackend } from 'cellscan';
import { describeMachine } from './machine';
import { measure } from './measure';
import { type Result, gflopsOf, renderMarkdown } from './report';
import { SHAPES, describeShape } from './shapes';
import { cellscanSubject } from './subjects';

function options() {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string' },
      backends: { type: 'string' },
      threads: { type: 'string', default: '2' },
      time: { type: 'string', default: '1000' },
      out: { type: 'string', default: path.join('bench', 'RESULTS.md') },
    },
  });
  const shapes = values.shapes ? values.shapes.split(',').map((id) => {
    const s = SHAPES.find((x) => x.id.toLowerCase() === id.trim().toLowerCase());
    if (!s) throw new RangeError(`--shapes: unknown shape ${JSON.stringify(id)}; known: ${SHAPES.map((x) => x.id).join(', ')}`);
    return s;
  }) : SHAPES;
  const loaded = backends().filter((b) => b.available).map((b) => b.name);
  const wanted = values.backends ? values.backends.split(',').map((b) => b.trim()) : loaded;
  for (const b of wanted) {
    if (!loaded.includes(b as never)) throw new RangeError(`--backends: ${b} is not available here (loaded: ${loaded.join(', ')})`);
  }
  const threads = Number(values.threads);
  const time = Number(values.time);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`--threads must be a positive integer, got ${values.threads}`);
  if (!(time > 0)) throw new RangeError(`--time must be a positive number of milliseconds, got ${values.time}`);
  return { shapes, backends: wanted as ('native' | 'wasm')[], threads, time, out: values.out! };
}

async function main(): Promise<void> {
  const o = options();
  const machine = describeMachine();
  console.log(`cellscan bench: ${machine.cpu}, ${o.threads} thread(s), ${o.time} ms per task`);
  const results: Result[] = [];
  for (const shape of o.shapes) {
    for (const backend of o.backends) {
      useBackend(backend);
      setNumThreads(o.threads);
      const t = await measure(cellscanSubject(shape), o.time);
      const r: Result = { shape, runtime: `cellscan ${backend}`, ...t };
      results.push(r);
      const g = gflopsOf(r);
      console.log(
        `${shape.id.padEnd(4)} ${describeShape(shape).padEnd(34)} ${r.runtime.padEnd(16)} ` +
          `fwd ${r.forwardMs.toFixed(3)} ms (${g.forward.toFixed(1)} GFLOP/s)  ` +
          `fwd+bwd ${r.trainMs!.toFixed(3)} ms (${g.train!.toFixed(1)} GFLOP/s)`,
      );
    }
  }
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, renderMarkdown(machine, o.threads, results));
  console.log(`wrote ${o.out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
