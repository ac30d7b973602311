// RESULTS.md: machine and settings, one table of every runtime on every shape with its ratio to
// cellscan native, and where each target of issue 4 stands, judged from the numbers of this run.
import type { Machine } from './machine';
import { ROUNDS, type TaskTiming, WARMUP_CALLS, WARMUP_CAP_BUDGETS } from './measure';
import type { SgemmResult } from './roofline';
import { WASM_HEADING } from './sections';
import type { WasmCeiling } from './wasm';

export { WASM_HEADING };
import { type Shape, describeShape, forwardFlops } from './shapes';

export interface Row {
  shape: Shape;
  /** 'cellscan native', wasmRuntime(n) ('cellscan wasm, 1 thread', …), 'onnxruntime', 'tfjs'. */
  runtime: string;
  /** Set when the row computes other math than the shape's default (a peer's only exact match). */
  variant?: string;
  /** A regularized cellscan layer (SPEC §3a): its ratios are against the plain layer's row. */
  regularizer?: string;
  threads: number;
  forward?: TaskTiming;
  train?: TaskTiming;
  /** Why a measurement is missing, or what a reader must know about this row. */
  notes: string[];
  /** The runtime could not be measured on this shape at all (mismatch, error). */
  failed?: string;
}

export interface PeerInfo {
  name: string;
  description: string;
}

export interface Report {
  machine: Machine;
  threads: number;
  budgetMs: number;
  peerBudgetMs: number;
  command: string;
  shapes: Shape[];
  rows: Row[];
  /** The cellscan row every ratio divides by: 'cellscan native' when it was measured. */
  primary: string | undefined;
  peers: PeerInfo[];
  /** Peers that were asked for (or defaulted to) but not run at all, with why. */
  peersNotRun: { name: string; why: string }[];
  sgemm: SgemmResult | undefined;
  /** The wasm rows' thread count besides 1 (every core); undefined when wasm was not measured. */
  wasmThreads?: number;
  wasmCeiling?: WasmCeiling;
  chartFile: string;
  loadAverageAtEnd: number;
}

/** The runtime of a cellscan wasm row at `threads` (setNumThreads): 1, or all of them. */
export function wasmRuntime(threads: number): string {
  return threads === 1 ? 'cellscan wasm, 1 thread' : `cellscan wasm, all ${threads} threads`;
}

export function gflops(flops: number, ms: number): number {
  return flops / ms / 1e6;
}

export function forwardGflops(r: Row): number | undefined {
  return r.forward && gflops(forwardFlops(r.shape), r.forward.medianMs);
}

export function trainGflops(r: Row): number | undefined {
  return r.train && gflops(3 * forwardFlops(r.shape), r.train.medianMs);
}

/** The primary cellscan row computing the same math on the same shape. */
export function referenceRow(rep: Pick<Report, 'rows' | 'primary'>, r: Row): Row | undefined {
  return rep.rows.find(
    (x) => x.shape.id === r.shape.id && x.runtime === rep.primary && x.variant === r.variant && !x.regularizer && !x.failed,
  );
}

/** peer time / cellscan native time: above 1, cellscan is faster. */
export function ratios(rep: Pick<Report, 'rows' | 'primary'>, r: Row): { forward?: number; train?: number } {
  const ref = referenceRow(rep, r);
  if (!ref || ref === r) return {};
  return {
    forward: r.forward && ref.forward ? r.forward.medianMs / ref.forward.medianMs : undefined,
    train: r.train && ref.train ? r.train.medianMs / ref.train.medianMs : undefined,
  };
}

const num = (v: number | undefined, digits: number) => (v === undefined ? '—' : v.toFixed(digits));
const ms = (t: TaskTiming | undefined) => (t === undefined ? '—' : t.medianMs < 10 ? t.medianMs.toFixed(3) : t.medianMs.toFixed(1));
/** Truncated, not rounded: a ratio just under a threshold must not print as the threshold. */
const floored = (v: number, digits: number) => (Math.floor(v * 10 ** digits) / 10 ** digits).toFixed(digits);
const times = (v: number | undefined) => (v === undefined ? '—' : `${floored(v, 2)}×`);
const g = (v: number | undefined) => (v === undefined ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));

export function rowLabel(r: Row): string {
  const what = [r.variant, r.regularizer].filter(Boolean).join(', ');
  return what ? `${r.runtime} (${what})` : r.runtime;
}

/** Numbered notes under a table, each text once however many rows it applies to: mark(text) is its "[n]". */
function numberedNotes(): { notes: string[]; mark: (text: string) => string } {
  const notes: string[] = [];
  const mark = (text: string) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return `[${i + 1}]`;
  };
  return { notes, mark };
}

function resultsTable(rep: Report): string[] {
  const out = [
    `| shape | runtime | threads | forward ms | forward GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s | ` +
      `forward: time ÷ ${rep.primary ?? 'native'}'s | fwd+bwd: time ÷ ${rep.primary ?? 'native'}'s | timed runs |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const { notes, mark } = numberedNotes();
  for (const s of rep.shapes) {
    const rows = rep.rows.filter((r) => r.shape.id === s.id);
    rows.forEach((r, i) => {
      const marks = [...(r.failed ? [r.failed] : []), ...r.notes].map(mark);
      const rt = ratios(rep, r);
      const shapeCell = i === 0 ? `**${s.id}** ${describeShape(s)}` : '';
      out.push(
        `| ${shapeCell} | ${rowLabel(r)}${marks.length ? ' ' + marks.join(' ') : ''} | ${r.threads} | ${ms(r.forward)} | ` +
          `${g(forwardGflops(r))} | ${ms(r.train)} | ${g(trainGflops(r))} | ${times(rt.forward)} | ${times(rt.train)} | ` +
          `${r.forward?.runs ?? '—'} / ${r.train?.runs ?? '—'} |`,
      );
    });
  }
  if (notes.length) {
    out.push('');
    notes.forEach((n, i) => out.push(`${i + 1}. ${n}`));
  }
  return out;
}

const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');

function targetOnnx(rep: Report): string[] {
  const out = ['### 1. Native forward at least as fast as onnxruntime-node on every shape S1–S10 (aim: 1.25×)', ''];
  if (rep.primary !== 'cellscan native') return [...out, 'Not judged: the native backend was not measured in this run.'];
  const lines: string[] = ['| shape | native forward ms | onnxruntime forward ms | onnxruntime ÷ native | ≥ 1× | ≥ 1.25× |', '| --- | ---: | ---: | ---: | :---: | :---: |'];
  const missed: string[] = [];
  const unmeasured: string[] = [];
  let met = 0;
  let aimed = 0;
  for (const s of rep.shapes) {
    const peer = rep.rows.find((r) => r.shape.id === s.id && r.runtime === 'onnxruntime' && !r.variant);
    const r = peer && ratios(rep, peer).forward;
    if (!peer || r === undefined) {
      unmeasured.push(`${s.id}${peer?.failed ? ` (${peer.failed})` : ''}`);
      continue;
    }
    const ref = referenceRow(rep, peer)!;
    if (r >= 1) met++;
    else missed.push(`${s.id} (${floored(r, 2)}×)`);
    if (r >= 1.25) aimed++;
    lines.push(`| ${s.id} | ${ms(ref.forward)} | ${ms(peer.forward)} | ${times(r)} | ${r >= 1 ? 'yes' : 'no'} | ${r >= 1.25 ? 'yes' : 'no'} |`);
  }
  const judged = met + missed.length;
  const notRun = SHAPE_IDS.filter((id) => !rep.shapes.some((s) => s.id === id));
  const complete = judged === SHAPE_IDS.length;
  out.push(
    judged === 0
      ? 'Not judged: onnxruntime-node was not measured in this run.'
      : `${complete ? verdict(missed.length === 0) : '**not judged in full**'}: native is at least as fast on ${met} of ${judged} ` +
          `shapes measured, 1.25× or more on ${aimed}.` +
          (missed.length ? ` Slower on ${missed.join(', ')}.` : '') +
          (notRun.length ? ` Shapes not in this run: ${notRun.join(', ')}.` : ''),
  );
  if (unmeasured.length) out.push('', `No onnxruntime figure for: ${unmeasured.join('; ')}.`);
  // A measured ceiling: where onnxruntime outruns the SGEMM of cellscan's own kernel, no recurrent
  // kernel built on that SGEMM can catch it; say so with the figures.
  const sg = rep.sgemm && !('unavailable' in rep.sgemm) ? rep.sgemm.gflops : undefined;
  const above = sg === undefined ? [] : rep.rows.filter((r) => r.runtime === 'onnxruntime' && (forwardGflops(r) ?? 0) > sg);
  if (above.length) {
    out.push(
      '',
      `onnxruntime's forward runs faster than cellscan's own large square SGEMM (${g(sg)} GFLOP/s) on ` +
        `${above.map((r) => `${r.shape.id} (${g(forwardGflops(r))} GFLOP/s)`).join(', ')}: there its GEMM kernels outrun ours. ` +
        `The CPU advertises ${rep.machine.cpuFlags.filter((f) => f.startsWith('avx')).join(', ') || 'no AVX'}; ` +
        `cellscan's native backend reports ${rep.machine.features.filter((f) => f.includes(':')).join(', ') || rep.machine.features.join(', ')}.`,
    );
  }
  if (judged > 0) out.push('', ...lines);
  return out;
}

const SHAPE_IDS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10'];

function targetTraining(rep: Report): string[] {
  const out = ['### 2. Forward+backward GFLOP/s at least 0.8× the forward GFLOP/s on S3, S4, S6', ''];
  if (rep.primary !== 'cellscan native') return [...out, 'Not judged: the native backend was not measured in this run.'];
  const lines = ['| shape | forward GFLOP/s | fwd+bwd GFLOP/s | fwd+bwd ÷ forward | ≥ 0.8 |', '| --- | ---: | ---: | ---: | :---: |'];
  const judged: boolean[] = [];
  const notRun: string[] = [];
  for (const id of ['S3', 'S4', 'S6']) {
    const r = rep.rows.find((x) => x.shape.id === id && x.runtime === 'cellscan native' && !x.variant);
    const f = r && forwardGflops(r);
    const t = r && trainGflops(r);
    if (f === undefined || t === undefined) {
      notRun.push(id);
      continue;
    }
    judged.push(t / f >= 0.8);
    lines.push(`| ${id} | ${g(f)} | ${g(t)} | ${floored(t / f, 3)} | ${t / f >= 0.8 ? 'yes' : 'no'} |`);
  }
  if (judged.length === 0) return [...out, 'Not judged: none of S3, S4, S6 was in this run.'];
  out.push(
    `${notRun.length ? '**not judged in full**' : verdict(judged.every(Boolean))}: ${judged.filter(Boolean).length} of ${judged.length} measured shapes hold.` +
      (notRun.length ? ` Not in this run: ${notRun.join(', ')}.` : ''),
    '',
    ...lines,
  );
  return out;
}

function targetRoofline(rep: Report): string[] {
  const out = ['### 3. S7 at 75% or more of a large square SGEMM with our own kernel on the same threads', ''];
  const s7 = rep.rows.find((x) => x.shape.id === 'S7' && x.runtime === 'cellscan native' && !x.variant);
  const sg = rep.sgemm;
  const sgemmText =
    sg === undefined
      ? 'SGEMM: not measured (the native backend was not in this run)'
      : 'unavailable' in sg
        ? `SGEMM: ${sg.unavailable}`
        : `SGEMM ${sg.size}×${sg.size}×${sg.size} with cellscan's kernel, ${rep.threads} thread(s): ${g(sg.gflops)} GFLOP/s (median ${ms({ medianMs: sg.ms, runs: sg.runs })} ms of ${sg.runs} runs)`;
  const f = s7 && forwardGflops(s7);
  const t = s7 && trainGflops(s7);
  const s7Text = f === undefined ? 'S7 native: not in this run' : `S7 native: forward ${g(f)} GFLOP/s, forward+backward ${g(t)} GFLOP/s`;
  out.push(`${sgemmText}. ${s7Text}.`, '');
  if (sg && !('unavailable' in sg) && f !== undefined) {
    const share = f / sg.gflops;
    out.push(
      `${verdict(share >= 0.75)}: S7 forward reaches ${floored(share * 100, 1)}% of the SGEMM figure` +
        (t !== undefined ? ` (forward+backward ${((t / sg.gflops) * 100).toFixed(0)}%, for information)` : '') +
        '.',
    );
  } else {
    out.push('Not judged: both figures are needed.');
  }
  return out;
}

function targetRegularized(rep: Report): string[] {
  const out = ['### 4. Training with zoneout or recurrent dropout at 0.85× or more of the plain layer\'s throughput', ''];
  const rows = rep.rows.filter((r) => r.regularizer && r.runtime === rep.primary);
  if (rows.length === 0) return [...out, 'Not judged: no regularized layer was measured in this run (S2 and S4 with the native backend).'];
  const lines = [
    '| shape | layer | forward ms | fwd+bwd ms | plain fwd+bwd ms | throughput ÷ plain | ≥ 0.85 |',
    '| --- | --- | ---: | ---: | ---: | ---: | :---: |',
  ];
  const judged: boolean[] = [];
  for (const r of rows) {
    const plain = referenceRow(rep, r);
    if (!plain?.train || !r.train) continue;
    const share = plain.train.medianMs / r.train.medianMs;
    judged.push(share >= 0.85);
    lines.push(
      `| ${r.shape.id} | ${r.regularizer} | ${ms(r.forward)} | ${ms(r.train)} | ${ms(plain.train)} | ${floored(share, 3)} | ${share >= 0.85 ? 'yes' : 'no'} |`,
    );
  }
  if (judged.length === 0) return [...out, 'Not judged: the training steps were not measured.'];
  out.push(`${verdict(judged.every(Boolean))}: ${judged.filter(Boolean).length} of ${judged.length} regularized layers hold.`, '', ...lines);
  return out;
}

export function renderMarkdown(rep: Report): string {
  const m = rep.machine;
  const lines = [
    '# cellscan benchmark results',
    '',
    `Measured ${m.date} by \`${rep.command}\`.`,
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} logical cores visible, ${m.memoryGiB} GiB memory; vector ISA flags: ${m.cpuFlags.join(', ') || 'n/a'}`,
    `- cellscan native backend: ${m.features.join(', ') || 'not loaded'}`,
    `- Node ${m.node}; ${rep.threads} thread(s) for cellscan and onnxruntime`,
    `- Load average (1 min) when the run started: ${m.loadAverage.toFixed(2)}, when it ended (this run's own threads included): ${rep.loadAverageAtEnd.toFixed(2)}. ` +
      'Other processes on the machine are not controlled: quote ratios from one run rather than absolute times.',
    '',
    '## Settings',
    '',
    `- Median wall time per call (tinybench) in the steady state, after untimed warm-up calls: half the budget and at least ` +
      `${WARMUP_CALLS} calls (fewer, but at least two, when ${WARMUP_CALLS} would take over ${WARMUP_CAP_BUDGETS}× the budget), ` +
      'since a large output lands on freshly faulted pages until the garbage collector frees earlier outputs for reuse; each task samples for ' +
      `${rep.budgetMs} ms (--time), or exactly 1 run when a warm-up call alone took longer than that. ` +
      `The runtimes of a shape take turns: ${ROUNDS} rounds of all its forwards and training steps, each sampling a ${ROUNDS}th of the budget, in their own order in the first round, a fixed shuffle in later even rounds and the round before reversed in odd ones (so no task always follows the same other), each after a full garbage collection (\`node --expose-gc\`) and a 50 ms pause; ` +
      "a task's median is over all its samples. A slow spell of the shared machine then falls on every runtime alike, so ratios within a shape hold better than absolute times. " +
      `A TF.js fit step estimated over ${(rep.peerBudgetMs / 1000).toFixed(0)} s (--peer-budget) is not run; the table says so where it happens.`,
    '- FLOPs: `D·2·T·B·G·H·(I+H)` for a forward (D directions, G gates), 3× that for forward+backward (so both GFLOP/s columns are comparable).',
    '- cellscan forward+backward: `forward(x, {training: true})` then `backward(tape, {dOutput})` (no optimizer step). ' +
      "TF.js forward+backward: one `fit` step over one batch of B sequences (MSE on the sequence output, SGD update).",
    '- Every peer runs the same weights on the same input as cellscan, and its forward output was checked against ' +
      "cellscan's (|a−b| ≤ 1e-4 + 1e-3·|b|) before it was timed.",
    ...rep.peers.map((p) => `- ${p.description}`),
    ...rep.peersNotRun.map((p) => `- ${p.name}: not run (${p.why}).`),
    '',
    '## Results',
    '',
    `Ratios are peer time ÷ ${rep.primary ?? 'cellscan native'} time on the same shape and math: above 1 means cellscan is faster.`,
    '',
    `![GFLOP/s per shape and runtime](${rep.chartFile})`,
    '',
    ...resultsTable(rep),
    '',
    '## Targets, from this run',
    '',
    ...targetOnnx(rep),
    '',
    ...targetTraining(rep),
    '',
    ...targetRoofline(rep),
    '',
    ...targetRegularized(rep),
    ...(rep.wasmThreads === undefined ? [] : ['', ...wasmSection(rep)]),
  ];
  return lines.join('\n') + '\n';
}

/** The rows of one shape and math: a cellscan wasm row at `threads`, or TF.js's. */
function findRow(rep: Report, shapeId: string, runtime: string, variant?: string): Row | undefined {
  return rep.rows.find((r) => r.shape.id === shapeId && r.runtime === runtime && r.variant === variant && !r.regularizer && !r.failed);
}

const ratioCell = (v: number | undefined, goal: number) => (v === undefined ? '— | —' : `${times(v)} | ${v >= goal ? 'yes' : 'no'}`);

/**
 * The WebAssembly section (issue 12): the wasm rows at 1 and at all threads and TF.js's beside them,
 * the GEMM ceiling, and the issue's targets judged from this run's numbers. It stands on its own
 * (date, command, machine), since `npm run bench:wasm` writes it alone into a file a full run wrote.
 */
export function wasmSection(rep: Report): string[] {
  const N = rep.wasmThreads!;
  const m = rep.machine;
  const all = wasmRuntime(N);
  const one = wasmRuntime(1);
  const isa = m.cpuFlags.includes('avx512f') ? 'avx512f' : m.cpuFlags.includes('avx2') ? 'avx2, no avx512f' : 'no avx2';
  const out = [
    WASM_HEADING,
    '',
    `Measured ${m.date} by \`${rep.command}\`: ${m.cpu} (${isa}), ${m.cores} logical cores, load average ${m.loadAverage.toFixed(2)} at the start ` +
      `and ${rep.loadAverageAtEnd.toFixed(2)} at the end; ${rep.budgetMs} ms of samples per task, a shape's runtimes in ${ROUNDS} alternating rounds ` +
      '(as in Settings). The wasm rows time `forwardAsync` and `forwardAsync(x, {training: true})` + `backwardAsync`, the calls the backend runs on its ' +
      'worker threads, cut along batch rows over `setNumThreads(n)` of them (a synchronous `forward` runs on the calling thread alone); ' +
      `n = 1 and n = ${N} (\`os.availableParallelism()\`). The threads column is what ran: the pieces the library cut a forward into. ` +
      'Shared machine (±30%): quote the ratios, from this one run.',
    '',
    '| shape | runtime | threads | forward ms | forward GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s | timed runs |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const { notes, mark } = numberedNotes();
  for (const s of rep.shapes) {
    const rows = rep.rows.filter((r) => r.shape.id === s.id && (r.runtime.startsWith('cellscan wasm') || r.runtime === 'tfjs'));
    rows.forEach((r, i) => {
      const marks = [...(r.failed ? [r.failed] : []), ...r.notes].map(mark);
      out.push(
        `| ${i === 0 ? `**${s.id}** ${describeShape(s)}` : ''} | ${rowLabel(r)}${marks.length ? ' ' + marks.join(' ') : ''} | ${r.threads} | ` +
          `${ms(r.forward)} | ${g(forwardGflops(r))} | ${ms(r.train)} | ${g(trainGflops(r))} | ${r.forward?.runs ?? '—'} / ${r.train?.runs ?? '—'} |`,
      );
    });
  }
  if (notes.length) out.push('', ...notes.map((n, i) => `${i + 1}. ${n}`));

  const c = rep.wasmCeiling;
  out.push('', '### The WASM GEMM ceiling: XNNPACK matMul against cellscan\'s WebAssembly GEMM', '');
  let xnn: number | undefined;
  if (c === undefined || 'unavailable' in c) {
    out.push(`Not measured: ${c ? c.unavailable : 'the wasm backend was not in this run'}.`);
  } else {
    xnn = c.xnnpack.gflops;
    out.push(
      `C[${c.m}×${c.n}] = A[${c.m}×${c.k}]·B[${c.k}×${c.n}], S2's input projection (T·B × I times I × 4H), the product on which the targets compare against XNNPACK; ` +
        'each operand already in its module\'s memory and the product left there (the kernels alone, as a layer calls them), both products checked ' +
        "against a double-precision one first; timed in alternating rounds with a one-thread wasm forward of S2 (`forwardAsync`, `setNumThreads(1)`). " +
        `XNNPACK is TensorFlow.js's wasm backend (\`tf.matMul\`), asked for ${c.xnnpack.threadsAsked} threads with \`setThreadsCount\` before it initialized; ` +
        `it reports ${c.xnnpack.threads}${c.xnnpack.threads === 1 ? ': under Node TF.js runs its single-threaded build whatever is asked (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs#3830; forced on, its threaded build fails to start workers from a blob: URL), so XNNPACK has no all-threads figure here' : ''}.`,
      '',
      '| runtime | threads | ms | GFLOP/s | ÷ XNNPACK | timed runs |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      `| XNNPACK \`tf.matMul\` | ${c.xnnpack.threads} | ${ms({ medianMs: c.xnnpack.ms, runs: 0 })} | ${g(c.xnnpack.gflops)} | 1× | ${c.xnnpack.runs} |`,
      `| cellscan wasm \`gemm\` export | 1 | ${ms({ medianMs: c.cellscan.ms, runs: 0 })} | ${g(c.cellscan.gflops)} | ${times(c.cellscan.gflops / xnn)} | ${c.cellscan.runs} |`,
      `| cellscan wasm S2 forward (${describeShape(c.forward.shape)}) | 1 | ${ms({ medianMs: c.forward.ms, runs: 0 })} | ${g(c.forward.gflops)} | ${times(c.forward.gflops / xnn)} | ${c.forward.runs} |`,
    );
  }

  out.push('', '### Targets of the WebAssembly backend, from this run', '');
  out.push('| target | measured | ratio | met |', '| --- | --- | ---: | :---: |');
  if (c && !('unavailable' in c)) {
    out.push(`| one-thread wasm forward ≥ 1.0× XNNPACK matMul GFLOP/s | S2 forward ${g(c.forward.gflops)} against ${g(xnn)} GFLOP/s, same rounds | ${ratioCell(c.forward.gflops / xnn!, 1)} |`);
  } else {
    out.push('| one-thread wasm forward ≥ 1.0× XNNPACK matMul GFLOP/s | not measured | — | — |');
  }
  const threadsLabel = N === 2 ? '2 threads' : `all ${N} threads (the target says 2)`;
  const s3one = findRow(rep, 'S3', one);
  const s3all = N > 1 ? findRow(rep, 'S3', all) : undefined;
  const speed = (a?: Row, b?: Row, k: 'forward' | 'train' = 'forward') => (a?.[k] && b?.[k] ? a[k].medianMs / b[k].medianMs : undefined);
  out.push(
    s3one && s3all
      ? `| wasm ${threadsLabel} ≥ 1.7× 1 thread, S3 (LSTM 50 64 512 512) forward | ${ms(s3one.forward)} ms → ${ms(s3all.forward)} ms | ${ratioCell(speed(s3one, s3all), 1.7)} |\n` +
          `| the same, training step (for information) | ${ms(s3one.train)} ms → ${ms(s3all.train)} ms | ${ratioCell(speed(s3one, s3all, 'train'), 1.7)} |`
      : `| wasm ${threadsLabel} ≥ 1.7× 1 thread, S3 forward | not in this run${N === 1 ? ' (one core)' : ''} | — | — |`,
  );
  for (const [id, variant] of [['W1', undefined], ['W2', 'GRU linearBeforeReset=false']] as const) {
    const ours = findRow(rep, id, all, variant);
    const tf = findRow(rep, id, 'tfjs', variant);
    const what = id === 'W1' ? 'LSTM' : 'GRU (Cho, the math TF.js has)';
    if (!ours || !tf) {
      out.push(`| ${what} T=50 B=16 I=H=256: wasm ${threadsLabel} against TF.js wasm, forward ≥ 4×, training step ≥ 20× | not in this run | — | — |`);
      continue;
    }
    out.push(
      `| ${what} T=50 B=16 I=H=256, forward: TF.js time ÷ wasm ${threadsLabel} ≥ 4× | ${ms(tf.forward)} ms ÷ ${ms(ours.forward)} ms | ${ratioCell(speed(tf, ours), 4)} |`,
      `| ${what} T=50 B=16 I=H=256, training step: TF.js \`fit\` ÷ wasm ${threadsLabel} ≥ 20× | ${tf.train ? `${ms(tf.train)} ms ÷ ${ms(ours.train)} ms` : 'TF.js fit not measured'} | ${ratioCell(speed(tf, ours, 'train'), 20)} |`,
    );
  }
  if (xnn !== undefined) {
    const ones = rep.rows.filter((r) => r.runtime === one && !r.regularizer && !r.failed && r.forward);
    if (ones.length) {
      out.push(
        '',
        `For information, each shape's one-thread wasm forward against the XNNPACK figure (other rounds than the matMul's): ` +
          ones.map((r) => `${r.shape.id}${r.variant ? ' (Cho GRU)' : ''} ${g(forwardGflops(r))} GFLOP/s, ${times(forwardGflops(r)! / xnn!)}`).join('; ') +
          '.',
      );
    }
  }
  return out;
}
