// `cellscan sweep --redis URL --text FILE --grid "hidden=128,256 zoneout=0,0.1" [train flags]`:
// one `cellscan train` job per point of the grid, run by whichever workers take them, then the
// table `cellscan plot` prints and an SVG of the validation curves.
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { lossCurvesSvg } from '../demo/loss-curves-svg';
import { comparisonTable, formatSeconds, parseTrainLog, type TrainLog } from '../demo/train-log';
import { shownUrl } from './connection';
import { TRAIN, type TrainOutput, type TrainProgress } from './jobs';
import { QueueProducer } from './producer';
import { runJobs, type RunJob } from './run';
import { KEY_TTL_MS, REDIS_TIMEOUT_MS } from './settings';
import type { SweepPlan } from './sweep-flags';

interface Row {
  label: string;
  stem: string;
  output?: TrainOutput & { log: TrainLog };
  failed?: string;
}

export async function runSweep(plan: SweepPlan): Promise<number> {
  const { target, queue, textName, fixed, points, out, svg } = plan;
  const text = fs.readFileSync(textName);

  const p = new QueueProducer(target, queue, REDIS_TIMEOUT_MS, 'cellscan sweep');
  // Ctrl-C takes the sweep's jobs back off the queue before leaving (close() ends the run, whose
  // cleanup removes them); without it they would train on for nobody.
  const interrupt = () => {
    console.error('cellscan sweep: interrupted; removing its jobs from the queue');
    void p.close().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  const rows: Row[] = points.map((pt) => ({ label: pt.label, stem: pt.stem }));
  try {
    await p.start();
    const hash = createHash('sha256').update(text).digest('hex');
    const run = randomBytes(8).toString('hex');
    await p.whileReachable(p.blobs.hold(hash, run, KEY_TTL_MS, text), 'storing the text');
    const jobs: RunJob[] = points.map((pt) => ({
      name: TRAIN,
      data: { text: hash, textName, flags: [...fixed, ...pt.flags], checkpoint: path.join(out, `${pt.stem}.safetensors`), label: pt.label },
    }));
    console.log(`queued ${jobs.length} configuration(s) on queue ${queue} at ${shownUrl(target)}; waiting for workers`);
    await runJobs(p, run, jobs, {
      output: (i, bytes) => {
        const o = JSON.parse(bytes.toString('utf8')) as TrainOutput;
        const log = parseTrainLog(JSON.stringify(o.log), `the log of ${rows[i].label}`);
        rows[i].output = { ...o, log };
        const best = log.best ? `best valid loss ${log.best.validLoss.toFixed(3)} at step ${log.best.step}` : 'no held-out loss';
        console.log(`done ${rows[i].label}: ${best}, ${formatSeconds(o.seconds)} on ${o.host}`);
      },
      progress: (i, data) => {
        const d = data as TrainProgress;
        const valid = d.validLoss === null ? '' : `, valid loss ${d.validLoss.toFixed(3)}`;
        console.log(`${rows[i].label}: step ${d.step}, train loss ${d.trainLoss.toFixed(3)}${valid}`);
      },
      failed: (i, reason) => {
        rows[i].failed = reason;
        console.log(`failed ${rows[i].label}: ${reason}`);
      },
    }, [hash]);
  } finally {
    process.removeListener('SIGINT', interrupt);
    await p.close();
  }

  const done = rows.filter((r) => r.output);
  fs.mkdirSync(out, { recursive: true });
  if (done.length > 0) {
    console.log('');
    console.log(comparisonTable(done.map((r) => ({ label: r.label, log: r.output!.log }))));
    console.log('');
    console.log('checkpoints (on the machine that trained each):');
    for (const r of done) console.log(`  ${r.label}: ${r.output!.host}:${r.output!.checkpoint}`);
    // Each log beside the others, so `cellscan plot` can draw any subset of them later.
    for (const r of done) fs.writeFileSync(path.join(out, `${r.stem}.json`), JSON.stringify(r.output!.log, null, 1) + '\n');
    const first = done[0].output!.log;
    const title = plan.title ?? `Held-out loss, ${first.config.cell.toUpperCase()} sweep on ${path.basename(textName)}`;
    fs.mkdirSync(path.dirname(svg), { recursive: true });
    fs.writeFileSync(svg, lossCurvesSvg(done.map((r) => ({ label: r.label, curve: r.output!.log.curve })), title));
    console.log(`logs written to ${out}, curves to ${svg}`);
  }
  const failed = rows.filter((r) => r.failed);
  if (failed.length > 0) {
    console.error(`cellscan: ${failed.length} of ${rows.length} configuration(s) failed:`);
    for (const r of failed) console.error(`  ${r.label}: ${r.failed}`);
    return 1;
  }
  return 0;
}
