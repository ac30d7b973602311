// cellscan bench [--shapes S1,S3 --backends native --peers onnxruntime,tfjs|none --threads 2
//                 --time 2000 --peer-budget 15000 --out FILE]   (npm run bench [-- options])
// npm run bench:wasm [-- the same options]   (cellscan bench --wasm-section)
// The CLI checks --help and attaches negative numbers to their flags before it starts this file
// (with --expose-gc); its usage text is src/cli/usage.ts.
// Measures cellscan's backends and its peers on the shapes of SPEC §7 in one process, the runtimes
// of a shape taking turns (bench/measure.ts); writes RESULTS.md and a chart beside it, and prints
// the report. A full run writes bench/RESULTS.md, a run of a subset of the shapes, backends or
// peers bench/out/RESULTS-subset.md (or --out, never bench/RESULTS.md). Exits non-zero when a peer's forward disagreed with cellscan's (something is wrong
// in one of them, or in the conversion). The wasm backend gets a row at 1 thread and one at all
// threads, and the GEMM ceiling of bench/wasm.ts. --wasm-section (defaults: --backends wasm
// --peers tfjs --shapes W1,W2,S3) writes only the report's WebAssembly section into --out, in place
// of its earlier self, leaving the rest of the file (a full run's table) as it was.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { type RecurrentLayer, type Tensor, backends, useBackend } from 'cellscan';
import { renderChart } from './chart';
import { describeMachine } from './machine';
import { type Subject, type Task, type TaskTiming, timeTogether } from './measure';
import { type Peer, type PeerCase, type PeerVariant, PeerMismatch } from './peers/peer';
import { type Report, type Row, WASM_HEADING, forwardGflops, renderMarkdown, rowLabel, trainGflops, wasmRuntime } from './report';
import { type SgemmResult, sgemmGflops } from './roofline';
import { positive, reportFile, shapesOf } from './options';
import { KEPT_HEADINGS, placeSection, sectionOf } from './sections';
import { SHAPES, type Shape, describeShape } from './shapes';
import { type LayerVariant, REGULARIZED, cellscanAsyncSubject, cellscanSubject, inputFor, layerWeights, makeLayer, variantOf } from './subjects';
import { ALL_THREADS, type WasmCeiling, useThreads, wasmCeiling, wasmTask, wasmThreadsUsed } from './wasm';

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
  wasmSection: boolean;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter(Boolean);
}


function options(): Options {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string' },
      backends: { type: 'string' },
      // The other commands' spelling: one backend, or a list as --backends.
      backend: { type: 'string' },
      peers: { type: 'string' },
      threads: { type: 'string', default: '2' },
      // Two seconds per task: a slow spell of the shared machine shorter than a second then covers
      // less than half of a task's samples and leaves its median alone.
      time: { type: 'string', default: '2000' },
      'peer-budget': { type: 'string', default: '15000' },
      out: { type: 'string' },
      'wasm-section': { type: 'boolean', default: false },
    },
  });
  const wasmSection = values['wasm-section']!;
  if (values.backend !== undefined && values.backends !== undefined && values.backend !== values.backends) {
    throw new RangeError(`--backend is another name for --backends: give one, got --backend ${values.backend} and --backends ${values.backends}`);
  }
  const backendFlag = values.backends ?? values.backend;
  const backendName = values.backends === undefined ? '--backend' : '--backends';
  // The section's own defaults: issue 12's targets are set on W1, W2 (against TF.js) and S3 (threads).
  const shapes = shapesOf(list(values.shapes) ?? (wasmSection ? ['W1', 'W2', 'S3'] : SHAPES.map((s) => s.id)));
  const loaded = backends().filter((b) => b.available).map((b) => b.name);
  const named = list(backendFlag);
  // auto, as elsewhere: what loaded here.
  const wanted = named === undefined || (named.length === 1 && named[0] === 'auto') ? (wasmSection ? ['wasm'] : loaded) : named;
  for (const b of wanted) {
    if (!loaded.includes(b as BackendName)) {
      const why = backends().find((x) => x.name === b)?.reason ?? 'unknown backend';
      throw new RangeError(`${backendName}: ${b} is not available here (${why}); loaded: ${loaded.join(', ') || 'none'}`);
    }
  }
  if (wasmSection && !wanted.includes('wasm')) throw new RangeError(`--wasm-section: the wasm backend must be among ${backendName}, got ${backendFlag}`);
  const peerList = list(values.peers) ?? (wasmSection ? ['tfjs'] : undefined);
  const peers = peerList === undefined ? [...PEER_NAMES] : peerList.length === 1 && peerList[0] === 'none' ? [] : peerList;
  for (const p of peers) {
    if (!PEER_NAMES.includes(p as PeerName)) {
      throw new RangeError(`--peers: unknown peer ${JSON.stringify(p)}; known: ${PEER_NAMES.join(', ')}, or none`);
    }
  }
  const subset = [
    ...(shapes.length < SHAPES.length || SHAPES.some((s) => !shapes.includes(s)) ? [`--shapes ${values.shapes}`] : []),
    ...(loaded.some((b) => !wanted.includes(b)) ? [`${backendName} ${backendFlag}`] : []),
    ...(PEER_NAMES.some((p) => !peers.includes(p)) ? [`--peers ${values.peers}`] : []),
  ];
  return {
    shapes,
    backends: wanted as BackendName[],
    peers: peers as PeerName[],
    peersExplicit: values.peers !== undefined,
    threads: positive('threads', values.threads!, true),
    time: positive('time', values.time!, false),
    peerBudget: positive('peer-budget', values['peer-budget']!, false),
    out: reportFile(values.out, subset, wasmSection),
    wasmSection,
  };
}

/** Loads a peer's packages; a failure is a reason to report, not a crash (unless it was asked for by name). */
async function loadPeer(name: PeerName, threads: number): Promise<Peer> {
  if (name === 'onnxruntime') return (await import('./peers/onnxruntime')).onnxRuntimePeer(threads);
  const tfjs = await import('./peers/tfjs');
  // Every core asked of XNNPACK, as the wasm rows' all-threads row; the peer reports what it got.
  return tfjs.tfjsPeer(await tfjs.loadTfjsWasm(ALL_THREADS));
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

/** The thread counts the wasm rows run at: 1 and every core (one row when that is 1). */
const WASM_THREADS = [...new Set([1, ALL_THREADS])];

/**
 * A cellscan layer on one backend: one row natively, at --threads; on wasm a row at 1 thread and
 * one at all threads, through forwardAsync/backwardAsync, the calls the wasm backend runs on its
 * worker threads (its synchronous calls run on the calling thread alone). Each call selects the
 * backend and each task's set-up its thread count, since the runtimes take turns.
 */
function cellscanEntries(backend: BackendName, layer: RecurrentLayer, x: Tensor, shape: Shape, o: Options, variant?: string): Entry[] {
  if (backend === 'wasm') {
    const subject = cellscanAsyncSubject(layer, x, shape);
    return WASM_THREADS.map((n) => {
      // What the calls really ran on: the pieces the library cuts them into at n threads.
      const used = wasmThreadsUsed(shape, n);
      const notes: string[] = [];
      if (used.forward < n || used.train < n) {
        notes.push(
          `setNumThreads(${n}); the library cut a forward into ${used.forward} piece(s) and a training step into ${used.train} ` +
            '(a piece below MIN_PIECE_FLOPS costs a thread more than it saves)',
        );
      } else if (used.train !== used.forward) {
        notes.push(`its training step ran on ${used.train} thread(s)`);
      }
      return {
        row: { shape, runtime: wasmRuntime(n), variant, threads: used.forward, notes },
        forward: wasmTask(n, subject.forward),
        train: wasmTask(n, subject.train),
      };
    });
  }
  const subject: Subject = cellscanSubject(layer, x, shape);
  const threads = backends().find((b) => b.name === backend)?.threads ?? o.threads;
  const task = (fn: () => unknown) => ({
    fn: () => {
      useBackend(backend);
      return fn();
    },
    isAsync: false,
    // The wasm rows set the process-wide count to theirs: put --threads back.
    setUp: () => useThreads(o.threads),
  });
  return [{ row: { shape, runtime: `cellscan ${backend}`, variant, threads, notes: [] }, forward: task(subject.forward), train: task(subject.train!) }];
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
  // --threads for native and onnxruntime; the wasm rows' tasks set their own count and the native
  // tasks put this one back (bench/wasm.ts useThreads).
  useThreads(o.threads);
  const machine = describeMachine();
  // The command as typed, in the spelling that works in the repository and in an installed package alike.
  const command = ['cellscan bench', ...process.argv.slice(2)].join(' ');
  console.log(
    `cellscan bench: ${machine.cpu}, ${o.threads} thread(s), ${o.time} ms per task; ` +
      `backends: ${o.backends.join(', ') || 'none'}${o.backends.includes('wasm') ? ` (wasm at ${WASM_THREADS.join(' and ')} threads)` : ''}; ` +
      `peers: ${o.peers.join(', ') || 'none'}`,
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

  // The WASM GEMM ceiling (bench/wasm.ts), with a one-thread forward of S2, whose input projection is its product.
  let ceiling: WasmCeiling | undefined;
  if (o.backends.includes('wasm')) {
    const s2 = SHAPES.find((s) => s.id === 'S2')!;
    ceiling = await wasmCeiling(makeLayer(s2), inputFor(s2), s2, o.time);
    console.log(
      'unavailable' in ceiling
        ? `WASM GEMM ceiling: ${ceiling.unavailable}`
        : `WASM GEMM ${ceiling.m}×${ceiling.k}×${ceiling.n}: XNNPACK matMul ${ceiling.xnnpack.gflops.toFixed(1)} GFLOP/s ` +
            `(${ceiling.xnnpack.threads} thread(s), ${ceiling.xnnpack.threadsAsked} asked), cellscan wasm gemm ` +
            `${ceiling.cellscan.gflops.toFixed(1)}, S2 forward on 1 thread ${ceiling.forward.gflops.toFixed(1)} GFLOP/s`,
    );
  }

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
    const entries = o.backends.flatMap((b) => cellscanEntries(b, layers.get(b)!, x, shape, o));
    // What the seed's regularizers cost, training and evaluation, on the native backend beside the plain layer.
    if (o.backends.includes('native') && REGULARIZED.shapes.includes(shape.id)) {
      for (const { label, v } of REGULARIZED.variants) {
        const [e] = cellscanEntries('native', variantOf(layers.get('native')!, shape, v), x, shape, o);
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
          // Every backend computes the variant too, so that each has a ratio to the peer on the same math.
          if (variant) {
            for (const b of o.backends) {
              const lb = b === primary ? l : variantOf(layers.get(b)!, shape, v);
              entries.push(...cellscanEntries(b, lb, x, shape, o, 'GRU linearBeforeReset=false'));
            }
          }
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
    // A wasm-only run divides by the all-threads row, the one set against the peers' targets.
    primary: primary && (primary === 'wasm' ? wasmRuntime(ALL_THREADS) : `cellscan ${primary}`),
    wasmThreads: o.backends.includes('wasm') ? ALL_THREADS : undefined,
    wasmCeiling: ceiling,
    // Described after they ran: a peer learns some of its settings (TF.js's threads) only when it loads.
    peers: peers.map((p) => ({ name: p.name, description: p.describe() })),
    peersNotRun,
    sgemm,
    chartFile,
    loadAverageAtEnd: os.loadavg()[0],
  };
  const markdown = renderMarkdown(report);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const previous = fs.existsSync(o.out) ? fs.readFileSync(o.out, 'utf8') : '';
  if (o.wasmSection) {
    // The rest of the file (a full run's table, the other commands' sections) stays as it was.
    const section = sectionOf(markdown, WASM_HEADING)!;
    fs.writeFileSync(o.out, placeSection(previous, section));
    console.log('\n' + section);
    console.log(`wrote the section "${WASM_HEADING.slice(3)}" into ${o.out}`);
  } else {
    const svg = renderChart(o.shapes, rows, sgemm && !('unavailable' in sgemm) ? sgemm.gflops : undefined, o.threads);
    // Other commands write sections of the same file (bench:serve, bench:streaming): they stay as
    // they were, and so does the WebAssembly section when this run wrote none (no wasm backend).
    const kept = KEPT_HEADINGS.filter((h) => sectionOf(markdown, h) === undefined)
      .map((h) => sectionOf(previous, h))
      .filter((s): s is string => s !== undefined);
    fs.writeFileSync(o.out, kept.reduce(placeSection, markdown));
    fs.writeFileSync(path.join(path.dirname(o.out), chartFile), svg);
    console.log('\n' + markdown);
    console.log(`wrote ${o.out} and ${path.join(path.dirname(o.out), chartFile)}`);
  }
  if (mismatches.length) {
    console.error(`\n${mismatches.length} peer check(s) failed:\n${mismatches.map((m) => `  ${m}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  const err = e as Error & { code?: string };
  // Option mistakes as the other commands say them (src/cli/usage-error.ts): one line, status 2.
  const usage = err instanceof RangeError || err instanceof TypeError || err.code?.startsWith('ERR_PARSE_ARGS');
  const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(err.message)?.[1] : undefined;
  const message = unknown === undefined ? err.message?.replace(/\s*\n\s*/g, ' ') : `bench has no option ${unknown}`;
  console.error(usage ? `cellscan: ${message} (see \`cellscan bench --help\`)` : err instanceof Error ? err.message : err);
  process.exit(usage ? 2 : 1);
});
