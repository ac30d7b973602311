// npm run bench:streaming [-- --shapes S8,S9 --rounds 5 --threads 2 --time 1500 --out bench/RESULTS.md]
//
// The overhead-bound shapes (S8, S9: a streaming step) with every runtime in a process of its own
// (SPEC §7 "Fair timing"): onnxruntime's pool spins for milliseconds after each run, and at tens of
// microseconds a call what runs next to it decides the figure. Each round starts one child process
// per runtime and shape, in alternating order so that a slow spell of the machine falls on both;
// a child builds the layer (the same seed as `npm run bench`), checks onnxruntime against cellscan,
// warms up and times the forward alone with tinybench. Reported: the median over rounds of each
// child's median, and the ratio per round.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { parseArgs } from 'util';
import { setNumThreads, useBackend } from 'cellscan';
import { describeMachine } from './machine';
import { timeTask } from './measure';
import { onnxRuntimePeer } from './peers/onnxruntime';
import { placeSection } from './sections';
import { positive, SECTION_OUT_FLAG, shapesOf } from './options';
import { type Shape, describeShape } from './shapes';
import { cellscanSubject, inputFor, layerWeights, makeLayer } from './subjects';

const HEADING = '## Streaming steps, each runtime in its own process';
const RUNTIMES = ['cellscan native', 'onnxruntime'] as const;
type Runtime = (typeof RUNTIMES)[number];

interface ChildResult {
  medianMs: number;
  runs: number;
}

async function child(shape: Shape, runtime: Runtime, threads: number, budgetMs: number): Promise<ChildResult> {
  setNumThreads(threads);
  useBackend('native');
  const layer = makeLayer(shape);
  const x = inputFor(shape);
  if (runtime === 'cellscan native') return timeTask(cellscanSubject(layer, x, shape).forward, false, { budgetMs });
  const ours = layer.forward(x);
  const subject = await onnxRuntimePeer(threads).prepare(
    {
      shape,
      weights: layerWeights(layer, shape),
      x: x.data as Float32Array,
      output: ours.output.data as Float32Array,
      hN: ours.hN.data as Float32Array,
      threads,
    },
    { trainBudgetMs: 0 },
  );
  const t = await timeTask(subject.forward, true, { budgetMs });
  await subject.release();
  return t;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (ms: number) => (ms * 1000).toFixed(1);

function runChild(shape: Shape, runtime: Runtime, threads: number, budgetMs: number): ChildResult {
  const r = spawnSync(
    process.execPath,
    [__filename, '--child', '--shapes', shape.id, '--runtime', runtime, '--threads', String(threads), '--time', String(budgetMs)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`${runtime} on ${shape.id} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      runtime: { type: 'string' },
      shapes: { type: 'string', default: 'S8,S9' },
      rounds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      time: { type: 'string', default: '1500' },
      out: SECTION_OUT_FLAG,
    },
  });
  const threads = positive('threads', values.threads!, true);
  const budgetMs = positive('time', values.time!, false);
  const rounds = positive('rounds', values.rounds!, true);
  const shapes = shapesOf(values.shapes!.split(','));
  if (values.child) {
    const runtime = values.runtime as Runtime;
    if (!RUNTIMES.includes(runtime)) throw new RangeError(`--runtime must be one of ${RUNTIMES.join(', ')}, got ${values.runtime}`);
    console.log(JSON.stringify(await child(shapes[0], runtime, threads, budgetMs)));
    return;
  }

  const machine = describeMachine();
  const lines = [
    HEADING,
    '',
    `Measured ${machine.date} by \`npm run bench:streaming -- --shapes ${shapes.map((s) => s.id).join(',')} --rounds ${rounds} --threads ${threads} --time ${budgetMs}\`: ` +
      `every runtime and shape in a child process of its own, ${rounds} rounds in alternating order, ${threads} threads each ` +
      `(onnxruntime intraOpNumThreads ${threads}); ${budgetMs} ms of tinybench samples per child after its warm-up.`,
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} logical cores; avx512f ${machine.cpuFlags.includes('avx512f') ? 'present' : 'absent'}; Node ${machine.node}; load average (1 min) at the start ${machine.loadAverage.toFixed(2)}`,
    '',
    '| shape | cellscan native µs | onnxruntime µs | onnxruntime ÷ native | per round | ≥ 2.5× |',
    '| --- | ---: | ---: | ---: | --- | :---: |',
  ];
  for (const shape of shapes) {
    const times: Record<Runtime, number[]> = { 'cellscan native': [], onnxruntime: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse();
      for (const runtime of order) times[runtime].push(runChild(shape, runtime, threads, budgetMs).medianMs);
      console.log(`${shape.id} round ${r + 1}: ${RUNTIMES.map((rt) => `${rt} ${us(times[rt][r])} µs`).join(', ')}`);
    }
    const ours = median(times['cellscan native']);
    const theirs = median(times.onnxruntime);
    const perRound = times.onnxruntime.map((t, i) => (t / times['cellscan native'][i]).toFixed(2)).join(', ');
    const ratio = theirs / ours;
    lines.push(`| ${shape.id} ${describeShape(shape)} | ${us(ours)} | ${us(theirs)} | ${ratio.toFixed(2)}× | ${perRound} | ${ratio >= 2.5 ? 'yes' : 'no'} |`);
  }
  const section = lines.join('\n') + '\n';
  console.log('\n' + section);
  const out = values.out!;
  const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '# cellscan benchmark results\n';
  fs.writeFileSync(out, placeSection(before, section));
  console.log(`wrote the "${HEADING.slice(3)}" section of ${out}`);
}

main().catch((e) => {
  console.error(`bench:streaming: ${(e as Error).message}`);
  process.exit(1);
});
