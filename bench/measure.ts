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

/**
 * Median wall time of `fn` in ms in the steady state: first calls allocate, pack weights and
 * compile, and a process's first output arrays land on fresh pages (page faults cost ~10 µs per
 * 4 KiB on these machines) until the garbage collector has freed earlier ones for reuse. That
 * takes calls, not time: a forward returning 13 MB (S7) faults ~6000 pages per call for its first
 * five or so calls and none after. So every runtime gets the same untimed warm-up: half the budget
 * and at least WARMUP_CALLS calls (at least two, when that many would take over WARMUP_CAP_BUDGETS
 * budgets). A task slower than the budget gets a single timed run, so a heavy one costs a few
 * calls, not dozens. Errors thrown by fn propagate.
 */
export async function timeTask(fn: () => unknown, isAsync: boolean, o: TaskOptions): Promise<TaskTiming> {
  const t0 = performance.now();
  let calls = 0;
  for (;;) {
    await fn();
    calls++;
    const elapsed = performance.now() - t0;
    if (calls < 2 || elapsed < o.budgetMs / 2) continue;
    if (calls >= WARMUP_CALLS || elapsed * (calls + 1) / calls > WARMUP_CAP_BUDGETS * o.budgetMs) break;
  }
  const callMs = (performance.now() - t0) / calls;
  const bench = new Bench({
    time: o.budgetMs,
    iterations: callMs > o.budgetMs ? 1 : (o.minRuns ?? 3),
    warmup: false,
    throws: true,
  });
  bench.add('task', fn, { async: isAsync });
  await bench.run();
  const task = bench.getTask('task')!;
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`benchmark task did not complete: ${r.state}`);
  return { medianMs: r.latency.p50, runs: task.runs };
}
