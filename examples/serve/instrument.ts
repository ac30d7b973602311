// Batch sizes as they happen: the Batcher's stats() only has a running mean, so the layer's batched
// calls are wrapped (on this instance only) to see every call's batch size and time. Without the
// Batcher each request is one forwardAsync of batch size 1; the Batcher runs each merged batch through
// forwardAsyncInto (forwardAsync into memory it reuses from batch to batch), so both are wrapped.
import type { Metrics } from './metrics';
import type { Layer } from './model';

export function observeForwards(layer: Layer, metrics: Metrics): void {
  const batchAxis = layer.batchFirst ? 0 : 1;
  const timed = async <R>(batch: number, call: () => Promise<R>): Promise<R> => {
    metrics.batchSize.observe(batch);
    const stop = metrics.forwardSeconds.startTimer();
    try {
      return await call();
    } finally {
      stop();
    }
  };
  const forwardAsync = layer.forwardAsync.bind(layer);
  layer.forwardAsync = (input, o) => timed(input.shape[batchAxis], () => forwardAsync(input, o));
  const forwardAsyncInto = layer.forwardAsyncInto.bind(layer);
  layer.forwardAsyncInto = (input, o, floats) => timed(input.shape[batchAxis], () => forwardAsyncInto(input, o, floats));
}
