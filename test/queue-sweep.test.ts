// `cellscan sweep` with real workers: one `cellscan train` per grid point, checkpoints where the
// sweep said, the comparison table and the SVG of validation curves; a configuration that train
// refuses fails alone, with train's own message.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSafetensors } from '../src';
import { generateCorpus } from '../src/demo/corpus';
import { parseTrainLog } from '../src/demo/train-log';
import { describeWithRedis, suiteRedis, uniqueQueue } from './helpers/redis';
import { CLI, WorkerProcess } from './helpers/workers';

function sweep(args: string[], cwd: string): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'sweep', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (status) => resolve({ status, out, err }));
  });
}

describeWithRedis('cellscan sweep', () => {
  let redis: { url: string; release(): Promise<void> };
  const workers: WorkerProcess[] = [];
  const queue = uniqueQueue('sweep');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-sweep-'));
  const tiny = ['--steps', '6', '--every', '3', '--layers', '1', '--embed', '4', '--seq', '8', '--batch', '2'];

  beforeAll(async () => {
    redis = await suiteRedis();
    workers.push(...(await Promise.all([WorkerProcess.start(redis.url, queue), WorkerProcess.start(redis.url, queue)])));
    fs.writeFileSync(path.join(dir, 'text.txt'), generateCorpus(3000, 1));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('trains each point of the grid on the workers, then prints the table and draws the curves', async () => {
    const r = await sweep(['--redis', redis.url, '--queue', queue, '--text', 'text.txt', '--grid', 'hidden=8,16 residual=false', '--out', 'runs', ...tiny], dir);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^queued 2 configuration\(s\) on queue test-sweep/m);
    expect(r.out).toMatch(/^hidden=8 residual=false: step 3, train loss \d+\.\d{3}, valid loss \d+\.\d{3}$/m);
    expect(r.out).toMatch(/^\| hidden=16 residual=false \| plain +\| 6 +\| \d\.\d{3}/m);
    const runs = path.join(fs.realpathSync(dir), 'runs');
    for (const stem of ['hidden-8_residual-false', 'hidden-16_residual-false']) {
      const checkpoint = path.join(runs, `${stem}.safetensors`);
      expect(r.out).toContain(`:${checkpoint}`);
      expect(loadSafetensors(fs.readFileSync(checkpoint)).size).toBeGreaterThan(0);
      const log = parseTrainLog(fs.readFileSync(path.join(runs, `${stem}.json`), 'utf8'), stem);
      expect(log.text).toBe('text.txt');
      expect(log.curve.map((p) => p.step)).toEqual([3, 6]);
      expect(log.config.hidden).toBe(Number(/hidden-(\d+)/.exec(stem)![1]));
    }
    const svg = fs.readFileSync(path.join(runs, 'curves.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/class="valid"/g)).toHaveLength(2);
    expect(svg).toContain('hidden=16 residual=false');
  }, 120_000);

  test('a configuration train refuses fails alone, with its message; the sweep exits 1', async () => {
    const r = await sweep(['--redis', redis.url, '--queue', queue, '--text', 'text.txt', '--grid', 'hidden=8,0', '--out', 'bad', ...tiny], dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/^failed hidden=0: cellscan train exited with status 2: cellscan: --hidden must be a positive integer, got "0"$/m);
    expect(r.out).toMatch(/^\| hidden=8 +\|/m);
    expect(r.err).toMatch(/^cellscan: 1 of 2 configuration\(s\) failed:\n {2}hidden=0: cellscan train exited with status 2/m);
  }, 120_000);
});
