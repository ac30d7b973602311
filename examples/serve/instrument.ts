// Batch sizes as they happen: the Batcher's stats() only has a running mean, so the layer's own
// forwardAsync is wrapped (on this instance only) to see every call's batch size and time. With the
// Batcher each call is one merged batch; without it, every call has batch size 1.
import type { Metrics } from './metrics';
import type { Layer } from './model';

export function observeForwards(layer: Layer, metrics: Metrics): void {
  const forwardAsync = layer.forwardAsync.bind(layer);
  const batchAxis = layer.batchFirst ? 0 : 1;
  layer.forwardAsync = async (input, o) => {
    metrics.batchSize.observe(input.shape[batchAxis]);
    const stop = metrics.forwardSeconds.startTimer();
    try {
      return await forwardAsync(input, o);
    } finally {
      stop();
    }
  };
}
