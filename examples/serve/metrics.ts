// Prometheus metrics in a registry of the service's own (not prom-client's global one), so two
// services in one process (the tests) never share or collide on counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  batchSize: Histogram<string>;
  forwardSeconds: Histogram<string>;
}

export function createMetrics(gauges: { queued: () => number; sessions: () => number }): Metrics {
  const registry = new Registry();
  // process_resident_memory_bytes among them: the load test watches it stay flat.
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'cellscan_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cellscan_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Observed per forward call the layer makes: with the Batcher, the requests merged into it.
  const batchSize = new Histogram({
    name: 'cellscan_forward_batch_size',
    help: 'Sequences per batched forward call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const forwardSeconds = new Histogram({
    name: 'cellscan_forward_duration_seconds',
    help: 'Time of one forward call of the layer',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'cellscan_batcher_queued',
    help: 'Requests waiting for a batch',
    registers: [registry],
    collect() {
      this.set(gauges.queued());
    },
  });
  new Gauge({
    name: 'cellscan_sessions',
    help: 'Streaming sessions held',
    registers: [registry],
    collect() {
      this.set(gauges.sessions());
    },
  });
  return { registry, requests, latency, batchSize, forwardSeconds };
}
