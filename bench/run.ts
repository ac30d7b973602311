// npm run bench [-- --shapes S1,S3 --backends native --peers onnxruntime,tfjs|none --threads 2
//                  --time 2000 --peer-budget 15000 --out bench/RESULTS.md]
// Measures cellscan's backends and its peers on the shapes of SPEC §7 in one process, the runtimes
// of a shape taking turns (bench/measure.ts); writes RESULTS.md and a chart beside it, and prints
// the report. Exits non-zero when a peer's forward disagreed with cellscan's (something is wrong
// in one of them, or in the conversion).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { type RecurrentLayer, type Tensor, backends, setNumThreads, useBackend } from 'cellscan';
import { renderChart } from './chart';
import { describeMachine } from './machine';
import { type Subject, type Task, type TaskTiming, timeTogether } from './measure';
import { type Peer, type PeerCase, type PeerVariant, PeerMismatch } from './peers/peer';
import { type Report, type Row, forwardGflops, renderMarkdown, rowLabel, trainGflops } from './report';
import { type SgemmResult, sgemmGflops } from './roofline';
import { positive, shapesOf } from './options';
import { KEPT_HEADINGS, placeSection, sectionOf } from './sections';
import { SHAPES, type Shape, describeShape } from './shapes';
import { type LayerVariant, REGULARIZED, cellscanSubject, inputFor, layerWeights, makeLayer, variantOf } from './subjects';

type BackendName = 'native' | 'wasm';
const PEER_NAMES = ['onnxruntime', 'tfjs'] as const;
type PeerName = (typeof PEER_NAMES)[number];
const SGEMM_SIZE = 2048;

interface Options {
  shapes: Shape[];
  backends: BackendName[];
  peers: PeerName[];
  peersExplicit: boolean;
  threads: number;
  time: number;
  peerBudget: number;
  out: string;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean);
}


function options(): Options {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string' },
      backends: { type: 'string' },
      peers: { type: 'string' },
      threads: { type: 'string', default: '2' },
      // Two seconds per task: a slow spell of the shared machine shorter than a second then covers
      // less than half of a task's samples and leaves its median alone.
      time: { type: 'string', default: '2000' },
      'peer-budget': { type: 'string', default: '15000' },
      out: { type: 'string', default: path.join('bench', 'RESULTS.md') },
    },
  });
  const shapes = shapesOf(list(values.shapes) ?? SHAPES.map((s) => s.id));
  const loaded = backends().filter((b) => b.available).map((b) => b.name);
  const wanted = list(values.backends) ?? loaded;
  for (const b of wanted) {
    if (!loaded.includes(b as BackendName)) {
      const why = backends().find((x) => x.name === b)?.reason ?? 'unknown backend';
      throw new RangeError(`--backends: ${b} is not available here (${why}); loaded: ${loaded.join(', ') || 'none'}`);
    }
  }
  const peerList = list(values.peers);
  const peers = peerList === undefined ? [...PEER_NAMES] : peerList.length === 1 && peerList[0] === 'none' ? [] : peerList;
  for (const p of peers) {
    if (!PEER_NAMES.includes(p as PeerName)) {
      throw new RangeError(`--peers: unknown peer ${JSON.stringify(p)}; known: ${PEER_NAMES.join(', ')}, or none`);
    }
  }
  return {
    shapes,
    backends: wanted as BackendName[],
    peers: peers as PeerName[],
    peersExplicit: peerList !== undefined,
    threads: positive('threads', values.threads!, true),
    time: positive('time', values.time!, false),
    peerBudget: positive('peer-budget', values['peer-budget']!, false),
    out: values.out!,
  };
}

/** Loads a peer's packages; a failure is a reason to report, not a crash (unless it was asked for by name). */
async function loadPeer(name: PeerName, threads: number): Promise<Peer> {
  if (name === 'onnxruntime') return (await import('./peers/onnxruntime')).onnxRuntimePeer(threads);
  const tfjs = await import('./peers/tfjs');
  return tfjs.tfjsPeer(await tfjs.loadTfjsWasm());
}

const show = (t: TaskTiming | undefined, gf: number | undefined) =>
  t === undefined ? '—' : `${t.medianMs.toFixed(3)} ms (${gf!.toFixed(1)} GFLOP/s)`;

function printRow(r: Row): void {
  const what = r.failed
    ? `FAILED: ${r.failed}`
    : `fwd ${show(r.forward, forwardGflops(r))}  fwd+bwd ${show(r.train, trainGflops(r))}` + (r.notes.length ? `  [${r.notes.join('; ')}]` : '');
  console.log(`${r.shape.id.padEnd(4)} ${describeShape(r.shape).padEnd(34)} ${rowLabel(r).padEnd(16)} ${what}`);
}

/** One runtime on one shape: its table row and what to time for it. */
interface Entry {
  row: Row;
  forward?: Task;
  train?: Task;
  /** Why the training step is not timed (undefined: it is). */
  trainSkip?: () => string | undefined;
  release?: () => void | Promise<void>;
}

/** A cellscan layer on one backend; each call selects the backend, since the runtimes take turns. */
function cellscanEntry(backend: BackendName, layer: RecurrentLayer, x: Tensor, shape: Shape, o: Options, variant?: string): Entry {
  const subject: Subject = cellscanSubject(layer, x, shape);
  // What the backend really runs on (the wasm backend is single-threaded whatever was asked).
  const threads = backends().find((b) => b.name === backend)?.threads ?? o.threads;
  const on = (fn: () => unknown) => () => {
    useBackend(backend);
    return fn();
  };
  return {
    row: { shape, runtime: `cellscan ${backend}`, variant, threads, notes: [] },
    forward: { fn: on(subject.forward), isAsync: false },
    train: { fn: on(subject.train!), isAsync: false },
  };
}

/** cellscan's forward on the primary backend: what each peer must reproduce. */
function reference(primary: BackendName, layer: RecurrentLayer, x: Tensor): { output: Float32Array; hN: Float32Array } {
  useBackend(primary);
  const f = layer.forward(x);
  // Copies: a backend may hand out views of buffers that its next call reuses.
  return { output: (f.output.data as Float32Array).slice(), hN: (f.hN.data as Float32Array).slice() };
}

/** Every disagreement between a peer and cellscan in this run: the exit status reports them. */
const mismatches: string[] = [];

/**
 * A peer's call whose error marks its row failed rather than ending the run (the other runtimes
 * keep their turns); after a failure the call does nothing and the row's timings are dropped.
 */
function guarded(row: Row, peer: string, fn: () => unknown, isAsync: boolean): Task {
  const fail = (e: unknown) => {
    row.failed ??= `${peer} failed while timed: ${(e as Error).message}`;
  };
  if (isAsync) {
    return {
      isAsync,
      fn: async () => {
        if (row.failed) return;
        try {
          await fn();
        } catch (e) {
          fail(e);
        }
      },
    };
  }
  return {
    isAsync,
    fn: () => {
      if (row.failed) return;
      try {
        fn();
      } catch (e) {
        fail(e);
      }
    },
  };
}

async function peerEntry(peer: Peer, c: PeerCase, o: Options, variant: PeerVariant | undefined): Promise<Entry> {
  const row: Row = { shape: c.shape, runtime: peer.name, threads: peer.threads, notes: [] };
  if (variant) {
    row.variant = 'GRU linearBeforeReset=false';
    row.notes.push(variant.why);
  }
  let subject;
  try {
    subject = await peer.prepare(c, { trainBudgetMs: o.peerBudget });
  } catch (e) {
    row.failed = e instanceof PeerMismatch ? e.message : `${peer.name} failed to set up: ${(e as Error).message}`;
    if (e instanceof PeerMismatch) mismatches.push(e.message);
    return { row };
  }
  row.threads = peer.threads;
  const s = subject;
  return {
    row,
    forward: guarded(row, peer.name, s.forward, s.forwardAsync ?? false),
    train: s.train && guarded(row, peer.name, s.train, s.trainAsync ?? false),
    trainSkip: () => s.trainSkipped ?? s.trainGate?.() ?? (s.train ? undefined : 'the peer has no training step'),
    release: () => s.release(),
  };
}

/**
 * Times every runtime of one shape in alternation (timeTogether), forwards and training steps in
 * the same rounds: a slow spell then weighs on each ratio's two sides alike, onnxruntime ÷ native
 * and forward+backward ÷ forward.
 */
async function measureShape(entries: Entry[], o: Options): Promise<void> {
  const timed = entries.filter((e) => e.forward && !e.row.failed);
  const training = timed.filter((e) => {
    const skip = e.trainSkip?.();
    if (skip) e.row.notes.push(`forward+backward not measured: ${skip}.`);
    return !skip && e.train !== undefined;
  });
  const timings = await timeTogether([...timed.map((e) => e.forward!), ...training.map((e) => e.train!)], {
    budgetMs: o.time,
  });
  timed.forEach((e, i) => (e.row.forward = timings[i]));
  training.forEach((e, i) => (e.row.train = timings[timed.length + i]));
  for (const e of entries) {
    if (e.row.failed) {
      delete e.row.forward;
      delete e.row.train;
    }
  }
}

async function main(): Promise<void> {
  const o = options();
  // Every runtime takes turns within a shape, so the thread count is set once, for the whole run.
  setNumThreads(o.threads);
  const machine = describeMachine();
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  console.log(
    `cellscan bench: ${machine.cpu}, ${o.threads} thread(s), ${o.time} ms per task; ` +
      `backends: ${o.backends.join(', ') || 'none'}; peers: ${o.peers.join(', ') || 'none'}`,
  );
  const primary: BackendName | undefined = o.backends.includes('native') ? 'native' : o.backends[0];
  if (primary === undefined && o.peers.length > 0) throw new RangeError('peers are checked against a cellscan backend: give at least one in --backends');

  const peers: Peer[] = [];
  const peersNotRun: Report['peersNotRun'] = [];
  for (const name of o.peers) {
    try {
      peers.push(await loadPeer(name, o.threads));
    } catch (e) {
      if (o.peersExplicit) throw new Error(`--peers ${name}: it could not be loaded: ${(e as Error).message}`);
      peersNotRun.push({ name, why: `could not be loaded: ${(e as Error).message}` });
      console.log(`peer ${name} not run: ${(e as Error).message}`);
    }
  }

  // The roofline is measured next to S7 when S7 runs (the machine's load drifts over a run), else first.
  let sgemm: SgemmResult | undefined;
  const measureSgemm = async () => {
    if (!o.backends.includes('native')) return;
    useBackend('native');
    sgemm = await sgemmGflops(SGEMM_SIZE, o.time);
    console.log('unavailable' in sgemm ? `SGEMM: ${sgemm.unavailable}` : `SGEMM ${SGEMM_SIZE}³: ${sgemm.gflops.toFixed(1)} GFLOP/s`);
  };
  if (!o.shapes.some((s) => s.id === 'S7')) await measureSgemm();

  const rows: Row[] = [];
  const add = (r: Row) => {
    rows.push(r);
    printRow(r);
  };
  for (const shape of o.shapes) {
    if (shape.id === 'S7') await measureSgemm();
    const x = inputFor(shape);
    // A layer per backend (same seed, same weights), so that taking turns never repacks weights.
    const layers = new Map(o.backends.map((b) => [b, makeLayer(shape)] as const));
    const entries = o.backends.map((b) => cellscanEntry(b, layers.get(b)!, x, shape, o));
    // What the seed's regularizers cost, training and evaluation, on the native backend beside the plain layer.
    if (o.backends.includes('native') && REGULARIZED.shapes.includes(shape.id)) {
      for (const { label, v } of REGULARIZED.variants) {
        const e = cellscanEntry('native', variantOf(layers.get('native')!, shape, v), x, shape, o);
        e.row.regularizer = label;
        entries.push(e);
      }
    }
    if (primary !== undefined) {
      const layer = layers.get(primary)!;
      // Each variant a peer needs is computed (and timed, for a ratio on the same math) once per shape.
      const cases = new Map<string, PeerCase>();
      const caseFor = (variant: PeerVariant | undefined): PeerCase => {
        const key = variant ? 'lbr=false' : 'default';
        let c = cases.get(key);
        if (!c) {
          const v: LayerVariant = variant ? { linearBeforeReset: variant.linearBeforeReset } : {};
          const l = variant ? variantOf(layer, shape, v) : layer;
          if (variant) entries.push(cellscanEntry(primary, l, x, shape, o, 'GRU linearBeforeReset=false'));
          c = { shape, weights: layerWeights(l, shape, v), x: x.data as Float32Array, ...reference(primary, l, x), threads: o.threads };
          cases.set(key, c);
        }
        return c;
      };
      for (const peer of peers) {
        const variant = peer.variantFor(shape);
        entries.push(await peerEntry(peer, caseFor(variant), o, variant));
      }
    }
    try {
      await measureShape(entries, o);
    } finally {
      for (const e of entries) await e.release?.();
    }
    for (const e of entries) add(e.row);
  }

  const chartFile = path.basename(o.out).replace(/\.md$/i, '') + '.svg';
  const report: Report = {
    machine,
    threads: o.threads,
    budgetMs: o.time,
    peerBudgetMs: o.peerBudget,
    command,
    shapes: o.shapes,
    rows,
    primary: primary && `cellscan ${primary}`,
    // Described after they ran: a peer learns some of its settings (TF.js's threads) only when it loads.
    peers: peers.map((p) => ({ name: p.name, description: p.describe() })),
    peersNotRun,
    sgemm,
    chartFile,
    loadAverageAtEnd: os.loadavg()[0],
  };
  const markdown = renderMarkdown(report);
  const svg = renderChart(o.shapes, rows, sgemm && !('unavailable' in sgemm) ? sgemm.gflops : undefined, o.threads);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  // Other commands write sections of the same file (bench:serve, bench:streaming): they stay as they were.
  const previous = fs.existsSync(o.out) ? fs.readFileSync(o.out, 'utf8') : '';
  const kept = KEPT_HEADINGS.map((h) => sectionOf(previous, h)).filter((s): s is string => s !== undefined);
  fs.writeFileSync(o.out, kept.reduce(placeSection, markdown));
  fs.writeFileSync(path.join(path.dirname(o.out), chartFile), svg);
  console.log('\n' + markdown);
  console.log(`wrote ${o.out} and ${path.join(path.dirname(o.out), chartFile)}`);
  if (mismatches.length) {
    console.error(`\n${mismatches.length} peer check(s) failed:\n${mismatches.map((m) => `  ${m}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
