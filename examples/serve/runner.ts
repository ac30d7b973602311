// How a request's sequence reaches the layer: through a Batcher (merged with other requests into one
// batched forward), or alone, one forwardAsync of batch 1 per request (--no-batcher, the load test's
// baseline). Both answer in the Batcher's shapes: output [T, D*Hout], hN [L*D, Hout], cN [L*D, H].
import { Batcher, type Tensor, Tensor as TensorClass } from 'cellscan';
import type { Layer } from './model';

export interface RunResult {
  output: Tensor;
  hN: Tensor;
  cN?: Tensor;
}

export interface Runner {
  readonly batched: boolean;
  run(input: Tensor, o: { h0?: Tensor; c0?: Tensor; signal?: AbortSignal }): Promise<RunResult>;
  /** Takes no new request and finishes the started ones. */
  close(): Promise<void>;
  /** Requests waiting for a batch (0 without a Batcher). */
  queued(): number;
}

export interface BatcherSettings {
  maxBatch?: number;
  maxDelayMs?: number;
  maxQueue?: number;
}

export function batchedRunner(layer: Layer, settings: BatcherSettings): Runner {
  const batcher = new Batcher(layer, settings);
  return {
    batched: true,
    run: (input, o) => batcher.run(input, o),
    close: () => batcher.close(),
    queued: () => batcher.stats().queued,
  };
}

/** Adds (or drops) the batch axis of size 1 around a tensor, sharing its data. */
function withBatchAxis(t: Tensor, at: number): Tensor {
  const shape = [...t.shape];
  shape.splice(at, 0, 1);
  return new TensorClass(t.data, shape);
}

function withoutBatchAxis(t: Tensor, at: number): Tensor {
  const shape = [...t.shape];
  shape.splice(at, 1);
  return new TensorClass(t.data, shape);
}

export function directRunner(layer: Layer): Runner {
  const started = new Set<Promise<unknown>>();
  return {
    batched: false,
    // forwardAsync cannot be cancelled: an aborted request's forward runs to its end, unanswered.
    async run(input, o) {
      const p = layer.forwardAsync(withBatchAxis(input, 1), {
        h0: o.h0 && withBatchAxis(o.h0, 1),
        c0: o.c0 && withBatchAxis(o.c0, 1),
      });
      started.add(p);
      try {
        const r = await p;
        return {
          output: withoutBatchAxis(r.output, 1),
          hN: withoutBatchAxis(r.hN, 1),
          cN: r.cN && withoutBatchAxis(r.cN, 1),
        };
      } finally {
        started.delete(p);
      }
    },
    async close() {
      await Promise.allSettled([...started]);
    },
    queued: () => 0,
  };
}
