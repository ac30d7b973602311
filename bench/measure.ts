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

/**
 * Median wall time of `fn` in ms, after one untimed warm-up call (first calls allocate, pack
 * weights, compile). A task slower than the budget gets a single timed run, so that a heavy one
 * costs two calls rather than four. Errors thrown by fn propagate.
 */
export async function timeTask(fn: () => unknown, isAsync: boolean, o: TaskOptions): Promise<TaskTiming> {
  const t0 = performance.now();
  await fn();
  const warmupMs = performance.now() - t0;
  const bench = new Bench({
    time: o.budgetMs,
    iterations: warmupMs > o.budgetMs ? 1 : (o.minRuns ?? 3),
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
