// Times one runtime on one shape with tinybench: a forward, and a training step (forward with
// training, then backward). Medians, not means: these machines are shared and noisy.
import { Bench } from 'tinybench';

export interface Timing {
  forwardMs: number;
  trainMs?: number;
}

export interface Subject {
  forward(): unknown | Promise<unknown>;
  train?(): unknown | Promise<unknown>;
}

function median(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const r = task?.result;
  if (!r || r.state !== 'completed') {
    const why = r && 'error' in r ? String((r as { error: unknown }).error) : r?.state ?? 'not run';
    throw new Error(`benchmark task ${name} did not complete: ${why}`);
  }
  return r.latency.p50;
}

/** `budgetMs` bounds each task's sampling time; at least `minRuns` runs happen regardless. */
export async function measure(subject: Subject, budgetMs: number, minRuns = 5): Promise<Timing> {
  const bench = new Bench({ time: budgetMs, iterations: minRuns, warmupTime: Math.min(200, budgetMs), warmupIterations: 2 });
  bench.add('forward', () => subject.forward());
  if (subject.train) bench.add('train', () => subject.train!());
  await bench.run();
  return { forwardMs: median(bench, 'forward'), trainMs: subject.train ? median(bench, 'train') : undefined };
}
