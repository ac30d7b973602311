// Real `cellscan worker` processes for the queue's tests (node dist/cli.js worker ...), with what
// each prints, line by line and when, so a test can act on "start forward <job>" as it happens.
import { type ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { createInterface } from 'readline';

export const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export interface Line {
  at: number;
  text: string;
}

export class WorkerProcess {
  readonly proc: ChildProcess;
  readonly out: Line[] = [];
  readonly err: Line[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { re: RegExp; from: number; resolve(l: Line): void }[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [CLI, 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    createInterface({ input: this.proc.stdout! }).on('line', (text) => this.add(this.out, text));
    createInterface({ input: this.proc.stderr! }).on('line', (text) => this.add(this.err, text));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(url: string, queue: string, extra: string[] = []): Promise<WorkerProcess> {
    const w = new WorkerProcess(['--redis', url, '--queue', queue, '--threads', '1', '--verbose', ...extra]);
    await w.waitFor(/serving queue/, 30_000);
    return w;
  }

  private add(list: Line[], text: string): void {
    const line = { at: Date.now(), text };
    list.push(line);
    if (list !== this.out) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.re.test(text)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** The first stdout line matching `re` (one already printed counts), or a rejection after `ms`. */
  waitFor(re: RegExp, ms: number): Promise<Line> {
    const seen = this.out.find((l) => re.test(l.text));
    if (seen) return Promise.resolve(seen);
    return this.waitForNext(re, ms);
  }

  /** The next stdout line matching `re` from now on. */
  waitForNext(re: RegExp, ms: number): Promise<Line> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; stdout:\n${this.text()}\nstderr:\n${this.errText()}`)), ms);
      this.waiters.push({
        re,
        from: Date.now(),
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  text(): string {
    return this.out.map((l) => l.text).join('\n');
  }

  errText(): string {
    return this.err.map((l) => l.text).join('\n');
  }

  signal(s: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(s);
  }

  /** Stops it (SIGKILL when SIGTERM is not enough in 10 s); for afterAll. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}
