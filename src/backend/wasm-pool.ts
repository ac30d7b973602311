// The wasm backend's worker threads: up to `threads` of them, started on first need, each running
// one job at a time from a first-come queue. A worker holds the layers it has been sent, so a layer
// travels to each worker once (or again after that worker is replaced). Idle workers are unref'd:
// they never keep the process alive; a worker with a job is ref'd, so a pending call does.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { type FromWorker, type Job, type LayerImage, type ToWorker, WORKER_PROTOCOL, deserializeError } from './wasm-messages';

/** The worker script as the build leaves it, from the package root (this file sits two levels below it). */
export const wasmWorkerPath = path.join(__dirname, '..', '..', 'dist', 'backend', 'wasm-worker.js');

interface Pending {
  job: Job;
  /** The layer the job runs, sent along to a worker that does not hold it yet. */
  layer?: LayerImage;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  layers: Set<number>;
  current?: Pending & { loaded: boolean };
  /** Taken out of the pool by a resize; ends once its job is done. */
  retiring: boolean;
  /** Has answered at least once (a worker that fails before that cannot start at all). */
  answered: boolean;
}

export class WasmPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(
    private readonly module: object,
    private size: number,
  ) {}

  get numThreads(): number {
    return this.size;
  }

  /** Workers alive now (started on demand, so at most numThreads), for tests and reports. */
  get started(): number {
    return this.threads.filter((t) => !t.retiring).length;
  }

  /** New size; workers past it end now when idle, or when their job is done. */
  resize(n: number): void {
    this.size = n;
    const active = this.threads.filter((t) => !t.retiring);
    for (const t of active.slice(n)) {
      t.retiring = true;
      if (!t.current) this.end(t);
    }
    this.dispatch();
  }

  run(job: Job, layer?: LayerImage): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, layer, resolve, reject });
      this.dispatch();
    });
  }

  /** The layer is gone: workers holding it free it (after the job they are on, messages being in order). */
  drop(id: number): void {
    for (const t of this.threads) {
      if (!t.layers.delete(id)) continue;
      t.worker.postMessage({ kind: 'drop', layer: id } satisfies ToWorker);
    }
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let t = this.threads.find((x) => !x.retiring && !x.current);
      if (!t) {
        if (this.started >= this.size) return;
        try {
          t = this.start();
        } catch (e) {
          for (const p of this.queue.splice(0)) p.reject(e as Error);
          return;
        }
      }
      this.post(t, this.queue.shift()!);
    }
  }

  private start(): Thread {
    if (!fs.existsSync(wasmWorkerPath)) {
      throw new Error(`the wasm backend's worker script was not built (${wasmWorkerPath} is missing); run \`npm run build\``);
    }
    const worker = new Worker(wasmWorkerPath, { workerData: { protocol: WORKER_PROTOCOL, module: this.module } });
    const t: Thread = { worker, layers: new Set(), retiring: false, answered: false };
    worker.unref();
    worker.on('message', (m: FromWorker) => this.answer(t, m));
    worker.on('error', (e: Error) => this.failed(t, e));
    worker.on('exit', (code) => this.failed(t, new Error(`a wasm worker thread exited (code ${code}) during a call`)));
    this.threads.push(t);
    return t;
  }

  private post(t: Thread, p: Pending): void {
    const id = this.nextId++;
    const message = { ...p.job, id } as ToWorker & { load?: LayerImage };
    let loaded = false;
    if (p.layer && !t.layers.has(p.layer.id)) {
      message.load = p.layer;
      loaded = true;
      t.layers.add(p.layer.id);
    }
    t.current = { ...p, loaded };
    t.worker.ref();
    t.worker.postMessage(message);
  }

  private answer(t: Thread, m: FromWorker): void {
    const p = t.current;
    if (!p) return;
    t.current = undefined;
    t.answered = true;
    if (m.ok) {
      p.resolve(m.value);
    } else {
      // A layer whose load failed is not held; sending it again is harmless if it was.
      if (p.loaded && p.layer) t.layers.delete(p.layer.id);
      p.reject(deserializeError(m.error));
    }
    if (t.retiring) {
      this.end(t);
    } else {
      t.worker.unref();
    }
    this.dispatch();
  }

  private end(t: Thread): void {
    t.retiring = true;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    void t.worker.terminate();
  }

  /** The worker died (or never started): its job fails; if it never worked, so does every queued job. */
  private failed(t: Thread, e: Error): void {
    const i = this.threads.indexOf(t);
    if (i < 0) return;
    this.threads.splice(i, 1);
    const p = t.current;
    t.current = undefined;
    p?.reject(e);
    if (!t.answered) {
      for (const q of this.queue.splice(0)) q.reject(e);
    }
    void t.worker.terminate();
    this.dispatch();
  }
}
