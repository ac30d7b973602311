// The "Serving" section of bench/RESULTS.md, from the load test's cases, and its place in the file:
// it replaces an earlier "## Serving" section, or follows the rest, and touches nothing else.
import type { Machine } from './machine';

export interface ServeCase {
  batcher: boolean;
  connections: number;
  seconds: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Sequences per forward call the service made during the case (from its metrics). */
  meanBatch: number;
  rssStartMiB: number;
  rssEndMiB: number;
}

export interface ServeRun {
  machine: Machine;
  backend: string;
  threads: number;
  model: string;
  body: 'raw' | 'json';
  maxSteps: number;
  seconds: number;
  warmupSeconds: number;
  cases: ServeCase[];
  /** Per mode, MiB: RSS when it started listening, after warm-up, at the end of its last case, the most sampled; the exit code after SIGTERM. */
  modes: { batcher: boolean; rssFreshMiB: number; rssStartMiB: number; rssEndMiB: number; rssMaxMiB: number; exitCode: number | null }[];
}

const HEADING = '## Serving';

/** RSS counts as flat when it grew by at most 10% or 16 MiB, whichever is more. */
export function rssFlat(startMiB: number, endMiB: number): boolean {
  return endMiB - startMiB <= Math.max(0.1 * startMiB, 16);
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const mib = (x: number) => x.toFixed(0);
const label = (batcher: boolean) => (batcher ? 'Batcher' : 'no Batcher');

export function renderServing(r: ServeRun): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(HEADING, '');
  lines.push(`Measured ${m.date} by \`npm run bench:serve\`: the example service (\`npm run serve\`) in a process of its own, autocannon in the bench's process, both on 127.0.0.1.`, '');
  lines.push(
    `- CPU: ${m.cpu}, ${m.cores} logical cores visible; avx512f ${m.cpuFlags.includes('avx512f') ? 'present' : 'absent'}; Node ${m.node}`,
    `- cellscan ${r.backend} backend in the service, ${r.threads} thread(s); load average (1 min) at the start: ${m.loadAverage.toFixed(2)} (other processes are not controlled)`,
    `- Model: ${r.model}, random weights; \`POST /v1/forward\`, ${r.body === 'raw' ? 'raw little-endian float32 bodies both ways' : 'JSON bodies both ways'}, one sequence per request with T drawn uniformly from 1..${r.maxSteps} (a fixed pool of 256 bodies, cycled)`,
    `- Each case: ${r.seconds} s of autocannon (no pipelining: a connection sends its next request when its answer arrives); both services run side by side and take turns case by case, each after a ${r.warmupSeconds} s warm-up at ${Math.max(...r.cases.map((c) => c.connections))} clients; latency from request sent to answer received, every answer counted`,
    `- Batcher: its defaults (maxBatch 64, maxDelayMs 2, maxQueue 4096); no Batcher: one \`forwardAsync\` of batch 1 per request, run concurrently`,
    '',
  );
  lines.push('| mode | clients | req/s | p50 ms | p99 ms | max ms | requests | errors | non-2xx | mean batch | RSS MiB (start → end) |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of r.cases) {
    lines.push(
      `| ${label(c.batcher)} | ${c.connections} | ${c.perSecond.toFixed(0)} | ${ms(c.p50)} | ${ms(c.p99)} | ${ms(c.max)} | ${c.requests} | ${c.errors + c.timeouts} | ${c.non2xx} | ${c.meanBatch.toFixed(1)} | ${mib(c.rssStartMiB)} → ${mib(c.rssEndMiB)} |`,
    );
  }
  lines.push('');
  for (const mode of r.modes) {
    lines.push(`- ${label(mode.batcher)}: RSS ${mib(mode.rssFreshMiB)} MiB when it started listening, ${mib(mode.rssStartMiB)} MiB after warm-up, ${mib(mode.rssEndMiB)} MiB at the end, ${mib(mode.rssMaxMiB)} MiB at most (sampled every 250 ms); SIGTERM afterwards: exit code ${mode.exitCode}`);
  }
  lines.push('', ...target(r), '');
  return lines.join('\n');
}

function target(r: ServeRun): string[] {
  const top = Math.max(...r.cases.map((c) => c.connections));
  const withB = r.cases.find((c) => c.batcher && c.connections === top);
  const without = r.cases.find((c) => !c.batcher && c.connections === top);
  const out = [`### Target: ${top} concurrent clients, p99 with the Batcher below that without it, zero failed requests, RSS flat`, ''];
  if (!withB || !without) return [...out, 'not measured: the run lacks one of the two modes at this many clients.'];
  const failed = r.cases.reduce((n, c) => n + c.errors + c.timeouts + c.non2xx, 0);
  // Over the case itself: the service has run the warm-up and the smaller cases by then, so the
  // allocator's pools have grown to what this load needs, and growth here would be a leak.
  const flat = [withB, without].every((c) => rssFlat(c.rssStartMiB, c.rssEndMiB));
  const p99 = withB.p99 < without.p99;
  const met = p99 && failed === 0 && flat;
  out.push(
    `**${met ? 'met' : 'missed'}**: p99 ${ms(withB.p99)} ms with the Batcher, ${ms(without.p99)} ms without (${(without.p99 / withB.p99).toFixed(2)}×)` +
      `${p99 ? '' : ' — not below'}; ${failed} failed requests (errors, timeouts and non-2xx over every case); ` +
      `RSS over the ${top}-client case ${flat ? 'flat' : 'not flat'} (${[withB, without].map((c) => `${label(c.batcher)} ${mib(c.rssStartMiB)} → ${mib(c.rssEndMiB)} MiB`).join(', ')}; flat: grew by at most 10% or 16 MiB).`,
  );
  return out;
}

/** `markdown` with its Serving section replaced by (or, without one, followed by) `section`. */
