// The service: node:http, one recurrent layer, routes below. createService() listens and returns a
// handle whose close() drains: no new connections, the requests already in flight answered, then the
// Batcher closed once nothing more can reach it.
//
//   GET    /healthz              model, backend, Batcher settings, sessions; 503 while draining
//   GET    /metrics              Prometheus text
//   POST   /v1/forward           one sequence, from zero or the given h0/c0
//   POST   /v1/step              continues a session's sequence by a step or a short chunk
//   DELETE /v1/sessions/{id}     forgets a session's state
import * as http from 'http';
import type { AddressInfo } from 'net';
import { BatcherClosedError, QueueFullError, backends, currentBackend } from 'cellscan';
import { RAW_TYPE, bodyKind, bytesFromFloat32, readBody } from './body';
import { HttpError, sendError, sendJson } from './http-error';
import { observeForwards } from './instrument';
import { type Metrics, createMetrics } from './metrics';
import { type LoadedModel, type LoadOptions, type ModelInfo, loadModel } from './model';
import { type Limits, type SequenceRequest, parseJson, rows, sequenceFromJson, sequenceFromRaw } from './payload';
import { type BatcherSettings, type RunResult, type Runner, batchedRunner, directRunner } from './runner';
import { SESSION_ID, SessionTable } from './sessions';

export interface ServiceOptions extends LoadOptions {
  /** A .safetensors file, or a model already loaded. */
  model: string | LoadedModel;
  /** 127.0.0.1 unless told otherwise: an example, not hardened for the open network. */
  host?: string;
  /** 0: an ephemeral port (read it from the handle). */
  port?: number;
  /** Batcher settings, or false to run each request alone (default: a Batcher with its defaults). */
  batcher?: BatcherSettings | false;
  /** Largest request body in bytes (413 past it); default 4 MiB. */
  maxBodyBytes?: number;
  /** Most time steps in a /v1/forward request (422 past it); default 1024. */
  maxSteps?: number;
  /** Most time steps in one /v1/step call; default 64. */
  maxStepSteps?: number;
  /** Sessions held at most; the least recently used one makes room. Default 10000. */
  maxSessions?: number;
  /** An idle session is forgotten after this; default 10 minutes. */
  sessionTtlMs?: number;
  /** Whole request, headers to answer (server.requestTimeout); default 30 s. */
  requestTimeoutMs?: number;
  /** Headers must arrive within this (server.headersTimeout); default 10 s. */
  headersTimeoutMs?: number;
  /** close() waits this long for in-flight requests, then cuts the connections; default 30 s. */
  drainTimeoutMs?: number;
}

export interface Service {
  server: http.Server;
  host: string;
  port: number;
  url: string;
  model: ModelInfo;
  /** The Batcher's settings in effect; null without one. */
  batcher: Required<BatcherSettings> | null;
  metrics: Metrics;
  /** Requests being handled now. */
  inFlight(): number;
  /** Graceful: resolves once every in-flight request is answered and the Batcher has drained. */
  close(): Promise<void>;
}

const ROUTES: Record<string, string[]> = {
  '/healthz': ['GET', 'HEAD'],
  '/metrics': ['GET'],
  '/v1/forward': ['POST'],
  '/v1/step': ['POST'],
  '/v1/sessions/:id': ['DELETE'],
};

function routeOf(pathname: string): string | undefined {
  if (ROUTES[pathname]) return pathname;
  if (/^\/v1\/sessions\/[^/]+$/.test(pathname)) return '/v1/sessions/:id';
  return undefined;
}

export async function createService(o: ServiceOptions): Promise<Service> {
  const loaded = typeof o.model === 'string' ? loadModel(o.model, o) : o.model;
  const { layer, info } = loaded;
  const limits: Limits = { maxSteps: o.maxSteps ?? 1024 };
  const stepLimits: Limits = { maxSteps: o.maxStepSteps ?? 64 };
  const maxBodyBytes = o.maxBodyBytes ?? 4 * 1024 * 1024;
  // The Batcher's defaults (SPEC §9) filled in here, so /healthz reports what is in effect.
  const batcher = o.batcher === false ? null : {
    maxBatch: o.batcher?.maxBatch ?? 64,
    maxDelayMs: o.batcher?.maxDelayMs ?? 2,
    maxQueue: o.batcher?.maxQueue ?? 4096,
  };
  const runner: Runner = batcher ? batchedRunner(layer, batcher) : directRunner(layer);
  const sessions = new SessionTable(o.maxSessions ?? 10_000, o.sessionTtlMs ?? 600_000);
  const metrics = createMetrics({ queued: () => runner.queued(), sessions: () => sessions.size });
  observeForwards(layer, metrics);
  const backend = currentBackend();
  const threads = backends().find((b) => b.name === backend)?.threads ?? 1;

  let inFlight = 0;
  let draining = false;
  let onIdle: (() => void) | undefined;

  const server = http.createServer((req, res) => {
    inFlight++;
    const stopTimer = metrics.latency.startTimer();
    let route = 'unknown';
    res.once('close', () => {
      // 499 (nginx's "client closed request"): the client left before its answer was complete.
      const status = res.writableFinished ? res.statusCode : 499;
      metrics.requests.inc({ route, method: req.method ?? '', status: String(status) });
      stopTimer({ route });
      inFlight--;
      if (draining) {
        // This answer carried Connection: close or finished a keep-alive one: let idle sockets go.
        setImmediate(() => server.closeIdleConnections());
        if (inFlight === 0) onIdle?.();
      }
    });
    if (draining) res.setHeader('Connection', 'close');
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // Outside any promise: a throw here would take the process down.
      return answerFailure(res, new HttpError(400, `the request target must be a path, got ${JSON.stringify(req.url)}`));
    }
    const known = routeOf(path);
    if (known) route = known;
    handle(req, res, path, known).catch((e: unknown) => answerFailure(res, e));
  });
  server.requestTimeout = o.requestTimeoutMs ?? 30_000;
  server.headersTimeout = o.headersTimeoutMs ?? 10_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, route: string | undefined): Promise<void> {
    if (route === undefined) throw new HttpError(404, `no route ${JSON.stringify(path)}; try POST /v1/forward, POST /v1/step, GET /healthz, GET /metrics`);
    const allowed = ROUTES[route];
    if (!allowed.includes(req.method ?? '')) {
      throw new HttpError(405, `${route} takes ${allowed.join(' or ')}, got ${req.method}`, { Allow: allowed.join(', ') });
    }
    switch (route) {
      case '/healthz':
        return sendJson(res, draining ? 503 : 200, health());
      case '/metrics': {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(text);
        return;
      }
      case '/v1/forward':
        return forward(req, res);
      case '/v1/step':
        return step(req, res);
      default:
        return deleteSession(res, sessionIdOf(path.slice('/v1/sessions/'.length)));
    }
  }

  function health() {
    return {
      status: draining ? 'draining' : 'ok',
      model: info,
      backend,
      threads,
      batcher,
      limits: { maxBodyBytes, maxSteps: limits.maxSteps, maxStepSteps: stepLimits.maxSteps },
      sessions: { held: sessions.size, max: sessions.maxSessions, ttlSeconds: sessions.ttlMs / 1000 },
      // Besides this one.
      inFlight: inFlight - 1,
    };
  }

  /** The client's disconnect aborts its request (it leaves its batch, or its answer is dropped). */
  function abortOnClose(res: http.ServerResponse): AbortSignal {
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client disconnected'));
    });
    return ac.signal;
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const kind = bodyKind(req);
    const body = await readBody(req, maxBodyBytes);
    const seq: SequenceRequest = kind === 'raw' ? sequenceFromRaw(body, info, limits) : sequenceFromJson(parseJson(body), info, limits, true);
    const r = await runner.run(seq.input, { h0: seq.h0, c0: seq.c0, signal: abortOnClose(res) });
    answer(res, kind, r);
  }

  async function step(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const kind = bodyKind(req);
    const body = await readBody(req, maxBodyBytes);
    const header = req.headers['x-session-id'];
    let id = typeof header === 'string' ? header : undefined;
    let reset = req.headers['x-session-reset'] === 'true';
    let seq: SequenceRequest;
    if (kind === 'raw') {
      seq = sequenceFromRaw(body, info, stepLimits);
    } else {
      const json = parseJson(body);
      if (json.session !== undefined) {
        if (typeof json.session !== 'string') throw new HttpError(400, `session must be a string, got ${JSON.stringify(json.session)}`);
        if (id !== undefined && id !== json.session) throw new HttpError(400, `X-Session-Id ${JSON.stringify(id)} and "session" ${JSON.stringify(json.session)} disagree`);
        id = json.session;
      }
      if (json.reset !== undefined) {
        if (typeof json.reset !== 'boolean') throw new HttpError(400, `reset must be true or false, got ${JSON.stringify(json.reset)}`);
        reset = json.reset;
      }
      seq = sequenceFromJson(json, info, stepLimits, false, true);
    }
    if (id === undefined) throw new HttpError(400, 'a step needs a session id: the X-Session-Id header or a "session" field');
    if (!SESSION_ID.test(id)) throw new HttpError(400, `session id must be 1 to 128 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(id)}`);
    const s = sessions.touch(id);
    if (s.busy) throw new HttpError(409, `session ${JSON.stringify(id)} has a step in flight: send its steps one after another`);
    s.busy = true;
    try {
      const r = await runner.run(seq.input, reset ? { signal: abortOnClose(res) } : { h0: s.hN, c0: s.cN, signal: abortOnClose(res) });
      // Evicted or deleted meanwhile: the answer stands, the state is not kept.
      if (sessions.holds(s)) {
        s.hN = r.hN;
        s.cN = r.cN;
        s.steps = (reset ? 0 : s.steps) + seq.input.shape[0];
      }
      answer(res, kind, r, { 'X-Session-Id': id, 'X-Session-Steps': String(s.steps) }, { session: id, steps: s.steps });
    } finally {
      s.busy = false;
    }
  }

  function sessionIdOf(encoded: string): string {
    try {
      return decodeURIComponent(encoded);
    } catch {
      throw new HttpError(400, `session id must be valid percent-encoding, got ${JSON.stringify(encoded)}`);
    }
  }

  function deleteSession(res: http.ServerResponse, id: string): void {
    if (!sessions.delete(id)) throw new HttpError(404, `no session ${JSON.stringify(id)} (never started, deleted, or expired)`);
    res.writeHead(204);
    res.end();
  }

  function answer(res: http.ServerResponse, kind: 'json' | 'raw', r: RunResult, headers: Record<string, string> = {}, extra: object = {}): void {
    if (res.destroyed) return;
    if (kind === 'json') {
      sendJson(res, 200, { ...extra, output: rows(r.output), hN: rows(r.hN), ...(r.cN ? { cN: rows(r.cN) } : {}) }, headers);
      return;
    }
    const parts = [r.output, r.hN, ...(r.cN ? [r.cN] : [])].map((t) => t.data as Float32Array);
    const bytes = bytesFromFloat32(parts);
    res.writeHead(200, {
      'Content-Type': RAW_TYPE,
      'Content-Length': bytes.length,
      'X-Output-Shape': r.output.shape.join(','),
      'X-HN-Shape': r.hN.shape.join(','),
      ...(r.cN ? { 'X-CN-Shape': r.cN.shape.join(',') } : {}),
      ...headers,
    });
    res.end(bytes);
  }

  function answerFailure(res: http.ServerResponse, e: unknown): void {
    if (res.destroyed || res.headersSent) return;
    if (e instanceof HttpError) return sendError(res, e);
    // Overload and shutdown refuse a valid request for a while: 503, come back.
    if (e instanceof QueueFullError || e instanceof BatcherClosedError) {
      return sendError(res, new HttpError(503, (e as Error).message, { 'Retry-After': '1' }));
    }
    // The library's argument errors: the request got past the checks above but is still wrong.
    if (e instanceof TypeError || e instanceof RangeError) return sendError(res, new HttpError(400, e.message));
    console.error('cellscan-serve: request failed:', e);
    sendError(res, new HttpError(500, 'internal error'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address;

  let closing: Promise<void> | undefined;
  async function drain(): Promise<void> {
    draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const idle = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
    const deadline = setTimeout(() => server.closeAllConnections(), o.drainTimeoutMs ?? 30_000);
    try {
      await idle;
      server.closeIdleConnections();
      await closed;
    } finally {
      clearTimeout(deadline);
    }
    // Nothing can reach the runner now; it finishes whatever it still holds.
    await runner.close();
    sessions.close();
  }

  return {
    server,
    host,
    port: address.port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    model: info,
    batcher,
    metrics,
    inFlight: () => inFlight,
    close: () => (closing ??= drain()),
  };
}
