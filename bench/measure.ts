// Times one call with tinybench: a forward, or a training step (forward with training, then
// backward). Medians, not means: these machines are shared and noisy.
import { Bench } from 'tinybench';

export interface Subject {
  forward(): unknown;
  /** forward returns a promise that the timed window must include. */
  forwardAsync?: boolean;
  train?(): unknown;
  trainAsync?: boolean;
}

export interface TaskOptions {
  /** Sampling time per task; a task keeps running until both this and `minRuns` are met. */
  budgetMs: number;
  /** Timed runs at least (default 3); 1 when the warm-up call alone took longer than the budget. */
  minRuns?: number;
}

export interface TaskTiming {
  medianMs: number;
  runs: number;
}

/** Untimed calls before timing: at least this many, unless they would take WARMUP_CAP_BUDGETS budgets. */
export const WARMUP_CALLS = 8;
export const WARMUP_CAP_BUDGETS = 3;

/** One call site to time: a forward or a training step, and whether it returns a promise. */
export interface Task {
  fn: () => unknown;
  isAsync: boolean;
  /**
   * Untimed, before the task's warm-up and before each of its turns in a round: puts back what the
   * task needs and the tasks between its turns changed (the thread count, a process-wide setting
   * that cellscan's wasm rows at 1 and at all threads set each their own way).
   */
  setUp?: () => unknown;
}

/** Rounds in which timeTogether alternates its tasks. */
export const ROUNDS = 4;

/**
 * Untimed calls until the steady state: first calls allocate, pack weights and compile, and a
 * process's first output arrays land on fresh pages (page faults cost ~10 µs per 4 KiB on these
 * machines) until the garbage collector has freed earlier ones for reuse. That takes calls, not
 * time: a forward returning 13 MB (S7) faults ~6000 pages per call for its first five or so calls
 * and none after. So every runtime gets the same warm-up: half the budget and at least
 * WARMUP_CALLS calls (at least two, when that many would take over WARMUP_CAP_BUDGETS budgets).
 * Returns the mean call time in ms.
 */
async function warmUp(t: Task, budgetMs: number): Promise<number> {
  const t0 = performance.now();
  let calls = 0;
  for (;;) {
    await t.fn();
    calls++;
    const elapsed = performance.now() - t0;
    if (calls < 2 || elapsed < budgetMs / 2) continue;
    if (calls >= WARMUP_CALLS || (elapsed * (calls + 1)) / calls > WARMUP_CAP_BUDGETS * budgetMs) break;
  }
  return (performance.now() - t0) / calls;
}

/** Wall times in ms of `fn` over `timeMs` of sampling and at least `minRuns` calls. */
async function sample(t: Task, timeMs: number, minRuns: number): Promise<number[]> {
  const bench = new Bench({ time: timeMs, iterations: minRuns, warmup: false, throws: true, retainSamples: true });
  bench.add('task', t.fn, { async: t.isAsync });
  await bench.run();
  const r = bench.getTask('task')!.result;
  if (r.state !== 'completed') throw new Error(`benchmark task did not complete: ${r.state}`);
  return [...(r.latency.samples ?? [])];
}

/**
 * Lets the previous task's garbage go before the next task is timed: a full collection when Node
 * runs with --expose-gc (npm run bench does), then a quiet gap (SPEC §7's 50 ms). Without it, V8's
 * background collection of what a TF.js or WebAssembly task left behind ran on the cores of the
 * task after it, and onnxruntime's pool spun there.
 */
async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * The order of round r: the tasks' own order in the first round, a shuffle (a fixed seed, so runs
 * repeat) in later even rounds, and each odd round the one before it reversed. A rotated order
 * would keep every task behind the same neighbour round after round, and whatever that neighbour
 * leaves behind (garbage still being freed, a spinning pool) would weigh on that task alone; here
 * a task's neighbour before it in one round is the one after it in the next.
 */
export function roundOrder(n: number, r: number): number[] {
  if (r % 2 === 1) return roundOrder(n, r - 1).reverse();
  const order = Array.from({ length: n }, (_, i) => i);
  let state = (0x9e3779b9 ^ r) >>> 0;
  for (let i = n - 1; i > 0 && r > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Median wall time of each task in the steady state, the tasks timed in alternation: after every
 * task's warm-up, ROUNDS rounds give each task a 1/ROUNDS share of its budget in turn (in the
 * orders of roundOrder, each after settle()), and each median is over all of a task's samples. A slow spell of
 * the shared machine (seconds long; seen here to make one runtime's forward 1.5-1.8× slower than
 * in the run before) then falls on every runtime alike instead of on whichever had the machine at
 * the time, so ratios between tasks hold better than their absolute times. A task whose call is slower than its budget gets one timed
 * call in the first round only, so a heavy one costs a few calls, not dozens. Errors thrown by a
 * task's fn propagate.
 */
export async function timeTogether(tasks: Task[], o: TaskOptions): Promise<TaskTiming[]> {
  const callMs: number[] = [];
  for (const t of tasks) {
    await t.setUp?.();
    callMs.push(await warmUp(t, o.budgetMs));
  }
  const samples: number[][] = tasks.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const i of roundOrder(tasks.length, round)) {
      const heavy = callMs[i] > o.budgetMs;
      if (heavy && round > 0) continue;
      const runs = heavy ? 1 : Math.ceil((o.minRuns ?? 3) / ROUNDS);
      // Before settle(): what the set-up leaves behind (workers ended or started) is collected in the gap.
      await tasks[i].setUp?.();
      await settle();
      samples[i].push(...(await sample(tasks[i], heavy ? 0 : o.budgetMs / ROUNDS, runs)));
    }
  }
  return samples.map((xs) => ({ medianMs: median(xs), runs: xs.length }));
}

/** One task alone (see timeTogether). */
export async function timeTask(fn: () => unknown, isAsync: boolean, o: TaskOptions): Promise<TaskTiming> {
  return (await timeTogether([{ fn, isAsync }], o))[0];
}
