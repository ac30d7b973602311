// The queue's commands as the CLI sees them: their usage, and entry points that check the flags
// first and load BullMQ and ioredis (most of a second) only to run, not for every `cellscan` call
// nor for a mistyped flag.
import { runCommand } from './command-line';
import { planSweep } from './sweep-flags';
import type { OptionTable } from './sweep-grid';
import { parseWorkerFlags } from './worker-flags';

export const WORKER_USAGE = `  worker   takes shards and training jobs from a BullMQ queue on Redis until SIGTERM (SPEC §10)
           --redis URL (required)  --queue cellscan  --concurrency 1 (jobs computed at once; one more is fetched ahead)  --verbose (a line per job)`;

export const SWEEP_USAGE = `  sweep    a grid of \`train\` runs as jobs for \`cellscan worker\`s, then their table and curves
           --redis URL --text FILE --grid "hidden=128,256 zoneout=0,0.1" (required)  --queue cellscan
           --out sweep (checkpoints, on the workers, and logs)  --svg OUT/curves.svg  --title TEXT
           any other train flag (--steps 500 --every 100 ...) applies to every configuration`;

export function workerCommand(args: string[]): Promise<number> {
  return runCommand(async () => {
    const flags = parseWorkerFlags(args);
    return (await import('./worker-command')).serveWorker(flags);
  });
}

export function sweepCommand(args: string[], trainOptions: OptionTable): Promise<number> {
  return runCommand(async () => {
    const plan = planSweep(args, trainOptions);
    return (await import('./sweep-command')).runSweep(plan);
  });
}
