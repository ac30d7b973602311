// The benchmark's timing (bench/measure.ts): the runtimes of a shape take turns, so that a slow
// spell of the machine cannot land on one of them only. tinybench is an ES module, which jest's
// module loader cannot require, so the compiled module (npm test builds it first) runs in a child
// Node process.
import { execFileSync } from 'child_process';
import * as path from 'path';

const measure = path.join(__dirname, '..', 'dist', 'bench', 'measure.js');

interface Outcome {
  log: string[];
  timings: { medianMs: number; runs: number }[];
  rounds: number;
  /** roundOrder(tasks, r) for every round r. */
  orders: number[][];
}

/** timeTogether over busy-waiting tasks of the given durations, each logging its name when called. */
function run(tasks: [string, number][], budgetMs: number): Outcome {
  const script = `
    const { timeTogether, roundOrder, ROUNDS } = require(${JSON.stringify(measure)});
    const log = [];
    const task = (name, ms) => ({ isAsync: false, fn: () => {
      log.push(name);
      const end = performance.now() + ms;
      while (performance.now() < end);
    } });
    timeTogether(${JSON.stringify(tasks)}.map(([n, ms]) => task(n, ms)), { budgetMs: ${budgetMs} })
      .then((timings) => process.stdout.write(JSON.stringify({
        log, timings, rounds: ROUNDS,
        orders: Array.from({ length: ROUNDS }, (_, r) => roundOrder(${tasks.length}, r)),
      })));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as Outcome;
}

/** How often consecutive calls switch from one task to another. */
const switches = (log: string[]) => log.filter((name, i) => i > 0 && name !== log[i - 1]).length;

describe('timeTogether', () => {
  test('warms each task up in turn, then alternates them in rounds of varied order and times each over all its rounds', () => {
    const { log, timings, rounds, orders } = run([['a', 1], ['b', 3]], 80);
    expect(rounds).toBeGreaterThanOrEqual(2);
    // Warm-up: all of a's calls, then b's. Then the rounds in roundOrder's orders (a b, b a, ...):
    // the calls of a round form one run each, neighbouring runs of one task merging.
    expect(orders[0]).toEqual([0, 1]);
    expect(orders[1]).toEqual([1, 0]);
    const runs = log.filter((name, i) => i === 0 || name !== log[i - 1]);
    const expected = ['a', 'b', ...orders.flatMap((o) => o.map((i) => 'ab'[i]))];
    expect(runs).toEqual(expected.filter((name, i) => i === 0 || name !== expected[i - 1]));
    const [a, b] = timings;
    expect(a.runs).toBeGreaterThanOrEqual(rounds);
    expect(b.runs).toBeGreaterThanOrEqual(rounds);
    expect(a.medianMs).toBeGreaterThanOrEqual(1);
    expect(b.medianMs).toBeGreaterThanOrEqual(3);
    expect(a.medianMs).toBeLessThan(b.medianMs);
  });

  test("every round times each task once, and a task's neighbour before it changes between rounds", () => {
    const script = `
      const { roundOrder, ROUNDS } = require(${JSON.stringify(measure)});
      process.stdout.write(JSON.stringify(Array.from({ length: ROUNDS }, (_, r) => roundOrder(11, r))));`;
    const orders = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as number[][];
    const all = Array.from({ length: 11 }, (_, i) => i);
    for (const o of orders) expect([...o].sort((x, y) => x - y)).toEqual(all);
    expect(orders[0]).toEqual(all);
    // With 11 tasks (a shape's forwards and training steps) over the rounds, no task has only one
    // predecessor: a rotated order would give each exactly one.
    const before = all.map((task) => new Set(orders.map((o) => o[o.indexOf(task) - 1]).filter((p) => p !== undefined)));
    expect(before.every((p) => p.size >= 2)).toBe(true);
  });

  test('a task slower than its budget is timed once, in the first round', () => {
    const { log, timings, rounds } = run([['slow', 30], ['fast', 1]], 20);
    const [slow, fast] = timings;
    expect(slow.runs).toBe(1);
    expect(slow.medianMs).toBeGreaterThanOrEqual(30);
    expect(fast.runs).toBeGreaterThanOrEqual(rounds);
    // After its first timed call, only the fast task runs.
    const lastSlow = log.lastIndexOf('slow');
    expect(log.slice(lastSlow + 1).every((n) => n === 'fast')).toBe(true);
    expect(switches(log)).toBe(3);
  });
});

test("a task's set-up runs, untimed, before its warm-up and before each of its turns in a round", () => {
  const script = `
    const { timeTogether, ROUNDS } = require(${JSON.stringify(measure)});
    const log = [];
    const task = (name) => ({ isAsync: false, setUp: () => log.push('setUp ' + name), fn: () => log.push(name) });
    // A call is a push, so a fast machine makes hundreds of thousands: repeats are sent as one
    // entry, with the calls counted apart.
    timeTogether([task('a'), task('b')], { budgetMs: 20 }).then((timings) => {
      const calls = { a: log.filter((l) => l === 'a').length, b: log.filter((l) => l === 'b').length };
      const runsOf = log.filter((l, i) => i === 0 || l !== log[i - 1]);
      process.stdout.write(JSON.stringify({ log: runsOf, calls, rounds: ROUNDS, runs: timings.map((t) => t.runs) }));
    });`;
  const { log, calls, rounds, runs } = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
    log: string[];
    calls: { a: number; b: number };
    rounds: number;
    runs: number[];
  };
  // One set-up per warm-up and per turn: 1 + ROUNDS each, and every run of calls of a task starts with its own.
  expect(log.filter((l) => l === 'setUp a')).toHaveLength(1 + rounds);
  expect(log.filter((l) => l === 'setUp b')).toHaveLength(1 + rounds);
  log.forEach((l, i) => {
    if (!l.startsWith('setUp') && (i === 0 || log[i - 1] !== l)) expect(log[i - 1]).toBe(`setUp ${l}`);
  });
  // Set-ups are not samples: the calls timed are the task's own.
  expect(runs[0]).toBeLessThanOrEqual(calls.a);
});
