// The example service (examples/serve): its endpoints against the layer's own forward, its 4xx
// answers, model loading, and a real process drained by SIGTERM. In-process services listen on
// ephemeral loopback ports; the library comes from the package ('cellscan' → dist/), as the
// example's users import it.
import { type ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { GRU, LSTM, RNN, Tensor, saveSafetensors } from 'cellscan';
import { placeSection, sectionOf } from '../bench/sections';
import { type LoadedModel, ModelError, loadModel } from '../examples/serve/model';
import { type Service, type ServiceOptions, createService } from '../examples/serve/server';
import { CharModel, saveCheckpoint } from '../src/demo/charlm';
import { Tensor as SrcTensor } from '../src/tensor';
import { Adam } from '../src/train/optimizers';

const I = 5;
const H = 7;
const L = 2;
const TOL = 1e-4;
const MAIN = path.resolve(__dirname, '..', 'dist', 'examples', 'serve', 'main.js');

let dir: string;
let lstmFile: string;
let lstm: LSTM;
const services: Service[] = [];

/** Deterministic numbers in [-1, 1). */
function numbers(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function nested(data: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => data[r * cols + c]));
}

function flat(rows: number[][]): Float32Array {
  return Float32Array.from(rows.flat());
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThanOrEqual(TOL);
}

/** The layer alone on one sequence [T, I] (batch 1): what every answer must equal. */
function reference(layer: LSTM | GRU | RNN, x: Float32Array, o: { h0?: Float32Array; c0?: Float32Array } = {}) {
  const T = x.length / layer.inputSize;
  const S = layer.numLayers * (layer.bidirectional ? 2 : 1);
  const r = layer.forward(new Tensor(x, [T, 1, layer.inputSize]), {
    h0: o.h0 && new Tensor(o.h0, [S, 1, layer.outputSize]),
    c0: o.c0 && new Tensor(o.c0, [S, 1, layer.hiddenSize]),
  });
  return { output: r.output.data as Float32Array, hN: r.hN.data as Float32Array, cN: r.cN?.data as Float32Array | undefined };
}

async function start(o: Partial<ServiceOptions> = {}): Promise<Service> {
  const s = await createService({ model: lstmFile, port: 0, ...o });
  services.push(s);
  return s;
}

interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  bytes?: Buffer;
}

async function call(s: Service, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const raw = body instanceof Uint8Array;
  const res = await fetch(s.url + route, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': raw ? 'application/octet-stream' : 'application/json', ...headers },
    body: body === undefined ? undefined : raw ? body : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: res.status, headers: res.headers, json: isJson ? JSON.parse(bytes.toString('utf8')) : {}, bytes: isJson ? undefined : bytes };
}

function rawBytes(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-serve-'));
  lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: L, seed: 11 });
  lstmFile = path.join(dir, 'lstm.safetensors');
  fs.writeFileSync(lstmFile, saveSafetensors(lstm.stateDict()));
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('endpoints', () => {
  let s: Service;
  beforeAll(async () => {
    s = await start();
  });

  test('GET /healthz reports the model, the backend and the Batcher', async () => {
    const a = await call(s, 'GET', '/healthz');
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({
      status: 'ok',
      model: { cell: 'lstm', inputSize: I, hiddenSize: H, numLayers: L, bidirectional: false, outputSize: H, states: L, source: 'state dict' },
      batcher: { maxBatch: 64, maxDelayMs: 2, maxQueue: 4096 },
    });
    expect(s.host).toBe('127.0.0.1');
  });

  test('POST /v1/forward (JSON) equals layer.forward, from zeros and from a given h0/c0', async () => {
    const x = numbers(6 * I, 1);
    const a = await call(s, 'POST', '/v1/forward', { input: nested(x, 6, I) });
    expect(a.status).toBe(200);
    const want = reference(lstm, x);
    expectClose(flat(a.json.output as number[][]), want.output);
    expectClose(flat(a.json.hN as number[][]), want.hN);
    expectClose(flat(a.json.cN as number[][]), want.cN!);
    expect((a.json.output as number[][]).length).toBe(6);

    const h0 = numbers(L * H, 2);
    const c0 = numbers(L * H, 3);
    const b = await call(s, 'POST', '/v1/forward', { input: nested(x, 6, I), h0: nested(h0, L, H), c0: nested(c0, L, H) });
    expect(b.status).toBe(200);
    const wantB = reference(lstm, x, { h0, c0 });
    expectClose(flat(b.json.output as number[][]), wantB.output);
    expectClose(flat(b.json.cN as number[][]), wantB.cN!);
  });

  test('POST /v1/forward (raw float32) answers output, hN, cN in raw float32 with their shapes in headers', async () => {
    const T = 9;
    const x = numbers(T * I, 4);
    const a = await call(s, 'POST', '/v1/forward', rawBytes(x));
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/octet-stream');
    expect(a.headers.get('x-output-shape')).toBe(`${T},${H}`);
    expect(a.headers.get('x-hn-shape')).toBe(`${L},${H}`);
    expect(a.headers.get('x-cn-shape')).toBe(`${L},${H}`);
    const got = new Float32Array(new Uint8Array(a.bytes!).buffer);
    expect(got.length).toBe(T * H + 2 * L * H);
    const want = reference(lstm, x);
    expectClose(got.subarray(0, T * H), want.output);
    expectClose(got.subarray(T * H, T * H + L * H), want.hN);
    expectClose(got.subarray(T * H + L * H), want.cN!);
  });

  test('POST /v1/step carries the state: steps and chunks in turn equal one forward over the whole sequence', async () => {
    const x = numbers(5 * I, 5);
    const chunks = [[0, 1], [1, 3], [3, 4], [4, 5]];
    const outputs: number[][] = [];
    let last!: Answer;
    for (const [from, to] of chunks) {
      // A bare vector is one step; a list of rows is a chunk.
      const input = to - from === 1 ? Array.from(x.subarray(from * I, to * I)) : nested(x.subarray(from * I, to * I), to - from, I);
      last = await call(s, 'POST', '/v1/step', { session: 'walk', input });
      expect(last.status).toBe(200);
      expect(last.json.steps).toBe(to);
      outputs.push(...(last.json.output as number[][]));
    }
    const want = reference(lstm, x);
    expectClose(flat(outputs), want.output);
    expectClose(flat(last.json.hN as number[][]), want.hN);
    expectClose(flat(last.json.cN as number[][]), want.cN!);
  });

  test('two sessions in turn keep independent states; the raw body takes X-Session-Id', async () => {
    const xa = numbers(3 * I, 6);
    const xb = numbers(3 * I, 7);
    const outA: number[] = [];
    const outB: number[] = [];
    for (let t = 0; t < 3; t++) {
      const a = await call(s, 'POST', '/v1/step', { input: Array.from(xa.subarray(t * I, (t + 1) * I)) }, { 'X-Session-Id': 'client-a' });
      const b = await call(s, 'POST', '/v1/step', rawBytes(xb.slice(t * I, (t + 1) * I)), { 'X-Session-Id': 'client-b' });
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.headers.get('x-session-steps')).toBe(String(t + 1));
      outA.push(...flat(a.json.output as number[][]));
      outB.push(...new Float32Array(new Uint8Array(b.bytes!).buffer).subarray(0, H));
    }
    expectClose(outA, reference(lstm, xa).output);
    expectClose(outB, reference(lstm, xb).output);
  });

  test('a session resets with "reset": true and is forgotten by DELETE /v1/sessions/{id}', async () => {
    const x = numbers(2 * I, 8);
    const step = (o: object) => call(s, 'POST', '/v1/step', { session: 'r', ...o });
    await step({ input: nested(x, 2, I) });
    const again = await step({ input: nested(x, 2, I), reset: true });
    expect(again.json.steps).toBe(2);
    expectClose(flat(again.json.output as number[][]), reference(lstm, x).output);

    const del = await call(s, 'DELETE', '/v1/sessions/r');
    expect(del.status).toBe(204);
    const fresh = await step({ input: nested(x, 2, I) });
    expect(fresh.json.steps).toBe(2);
    expectClose(flat(fresh.json.output as number[][]), reference(lstm, x).output);
    await call(s, 'DELETE', '/v1/sessions/r');
    const gone = await call(s, 'DELETE', '/v1/sessions/r');
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'no session "r" (never started, deleted, or expired)' });
  });

  test('GET /metrics has request counts by route and status, batch sizes, latencies and RSS', async () => {
    await call(s, 'POST', '/v1/forward', { input: nested(numbers(I, 9), 1, I) });
    await call(s, 'GET', '/nowhere');
    const res = await fetch(s.url + '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const count = (re: RegExp) => Number(re.exec(text)?.[1]);
    expect(count(/^cellscan_http_requests_total\{route="\/v1\/forward",method="POST",status="200"\} (\d+)$/m)).toBeGreaterThanOrEqual(4);
    expect(count(/^cellscan_http_requests_total\{route="unknown",method="GET",status="404"\} (\d+)$/m)).toBe(1);
    expect(count(/^cellscan_forward_batch_size_count (\d+)$/m)).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^cellscan_http_request_duration_seconds_bucket\{le="0.005",route="\/v1\/forward"\} \d+$/m);
    expect(text).toMatch(/^cellscan_sessions \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  test('without the Batcher, /v1/forward and /v1/step answer the same', async () => {
    const direct = await start({ batcher: false });
    const x = numbers(4 * I, 10);
    const a = await call(direct, 'POST', '/v1/forward', { input: nested(x, 4, I) });
    expect(a.status).toBe(200);
    expectClose(flat(a.json.output as number[][]), reference(lstm, x).output);
    const h = await call(direct, 'GET', '/healthz');
    expect(h.json.batcher).toBeNull();
    const s1 = await call(direct, 'POST', '/v1/step', { session: 'd', input: nested(x.subarray(0, 2 * I), 2, I) });
    const s2 = await call(direct, 'POST', '/v1/step', { session: 'd', input: nested(x.subarray(2 * I), 2, I) });
    expectClose(flat([...(s1.json.output as number[][]), ...(s2.json.output as number[][])]), reference(lstm, x).output);
  });
});

describe('4xx answers carry {"error": ...}', () => {
  let s: Service;
  beforeAll(async () => {
    // A slow Batcher (1 s to gather) with room for one waiting request, and tight limits.
    s = await start({ maxBodyBytes: 2048, maxSteps: 8, maxStepSteps: 2, batcher: { maxDelayMs: 1000, maxQueue: 1 } });
  });

  /** Until a request waits in the Batcher's queue (however slow the machine is today). */
  async function queued(): Promise<void> {
    const gauge = s.metrics.registry.getSingleMetric('cellscan_batcher_queued')!;
    while ((await gauge.get()).values[0]?.value !== 1) await new Promise((r) => setTimeout(r, 5));
  }

  const row = () => Array.from(numbers(I, 12));

  test.each([
    ['bad JSON', '{"input": [[1, 2', 'body must be JSON: '],
    ['a JSON array', '[1, 2]', 'body must be a JSON object, got an array'],
    ['no input', { inputs: [] }, 'body must have an "input" field: [[inputSize numbers] per time step]'],
    ['a wrong feature size', { input: [[1, 2, 3]] }, `input[0] must hold inputSize = ${I} numbers, got 3`],
    ['a string among the numbers', { input: [[1, 2, 3, 4, 'x']] }, 'input[0][4] must be a number, got "x"'],
    ['no time step', { input: [] }, 'input must hold at least one time step'],
    ['h0 with the wrong rows', { input: [[0, 0, 0, 0, 0]], h0: [[0, 0, 0, 0, 0, 0, 0]] }, `h0 must have ${L} rows, got 1`],
  ])('400 for %s', async (_, body, error) => {
    const a = await call(s, 'POST', '/v1/forward', body);
    expect(a.status).toBe(400);
    expect(a.json.error).toEqual(expect.stringContaining(error));
    expect(Object.keys(a.json)).toEqual(['error']);
  });

  test('400 for a raw body that is not whole rows of float32', async () => {
    const a = await call(s, 'POST', '/v1/forward', new Uint8Array(4 * I + 2));
    expect(a.status).toBe(400);
    expect(a.json).toEqual({ error: `raw body must be float32 [T, inputSize = ${I}]: a multiple of ${4 * I} bytes, got ${4 * I + 2}` });
  });

  test('422 past the most time steps, for /v1/forward and for one /v1/step', async () => {
    const a = await call(s, 'POST', '/v1/forward', { input: Array.from({ length: 9 }, row) });
    expect(a.status).toBe(422);
    expect(a.json).toEqual({ error: 'input must hold at most 8 time steps, got 9' });
    const b = await call(s, 'POST', '/v1/step', { session: 'x', input: Array.from({ length: 3 }, row) });
    expect(b.status).toBe(422);
    expect(b.json).toEqual({ error: 'input must hold at most 2 time steps, got 3' });
  });

  test('413 for a body past the limit, by Content-Length and when it streams in chunked', async () => {
    const a = await call(s, 'POST', '/v1/forward', 'x'.repeat(3000));
    expect(a.status).toBe(413);
    expect(a.json).toEqual({ error: 'request body must be at most 2048 bytes, got Content-Length 3000' });

    // No Content-Length: the limit is found while reading.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(s.url + '/v1/forward', { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('x'.repeat(1500));
      setTimeout(() => req.end('x'.repeat(1500)), 20);
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toEqual({ error: 'request body must be at most 2048 bytes, got more than that' });
  });

  test('404 for an unknown route, 405 (with Allow) for a wrong method, 415 for another body type', async () => {
    const a = await call(s, 'GET', '/v2/forward');
    expect(a.status).toBe(404);
    expect(a.json).toEqual({ error: 'no route "/v2/forward"; try POST /v1/forward, POST /v1/step, GET /healthz, GET /metrics' });
    const b = await call(s, 'GET', '/v1/forward');
    expect(b.status).toBe(405);
    expect(b.headers.get('allow')).toBe('POST');
    expect(b.json).toEqual({ error: '/v1/forward takes POST, got GET' });
    const c = await call(s, 'POST', '/healthz');
    expect(c.status).toBe(405);
    const d = await call(s, 'POST', '/v1/forward', 'input=1', { 'Content-Type': 'text/plain' });
    expect(d.status).toBe(415);
    expect(d.json).toEqual({ error: 'Content-Type must be application/json or application/octet-stream, got "text/plain"' });
  });

  test('400 for a request target that is no path (and the service lives on)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(s.port, s.host, () => socket.end('GET http://[zz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8').on('data', (c: string) => (text += c));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1])).toEqual({ error: 'the request target must be a path, got "http://[zz/"' });
    expect((await call(s, 'GET', '/healthz')).status).toBe(200);
  });

  test('400 for a step without a valid session id, or with a state of its own', async () => {
    const a = await call(s, 'POST', '/v1/step', { input: row() });
    expect(a.status).toBe(400);
    expect(a.json).toEqual({ error: 'a step needs a session id: the X-Session-Id header or a "session" field' });
    const b = await call(s, 'POST', '/v1/step', { session: 'a b', input: row() });
    expect(b.status).toBe(400);
    expect(b.json).toEqual({ error: 'session id must be 1 to 128 of A-Z a-z 0-9 . _ : -, got "a b"' });
    const c = await call(s, 'POST', '/v1/step', { session: 'a', input: row() }, { 'X-Session-Id': 'b' });
    expect(c.json).toEqual({ error: 'X-Session-Id "b" and "session" "a" disagree' });
    const d = await call(s, 'POST', '/v1/step', { session: 'a', input: row(), h0: [] });
    expect(d.json).toEqual({ error: 'h0 is not taken here: the session holds the state (reset it with "reset": true)' });
  });

  test('409 for a second step of a session while its first is in flight', async () => {
    const first = call(s, 'POST', '/v1/step', { session: 'busy', input: row() });
    await queued();
    const second = await call(s, 'POST', '/v1/step', { session: 'busy', input: row() });
    expect(second.status).toBe(409);
    expect(second.json).toEqual({ error: 'session "busy" has a step in flight: send its steps one after another' });
    expect((await first).status).toBe(200);
  });

  test('503 with Retry-After when the Batcher\'s queue is full', async () => {
    const first = call(s, 'POST', '/v1/forward', { input: [row()] });
    await queued();
    const second = await call(s, 'POST', '/v1/forward', { input: [row()] });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.json.error).toMatch(/maxQueue = 1/);
    expect((await first).status).toBe(200);
  });
});

describe('models', () => {
  test('a `cellscan train` checkpoint serves its recurrent layer, regularization included', async () => {
    const model = new CharModel({ cell: 'gru', vocab: 'abcdef', embed: 6, hidden: 5, layers: 2, residual: true, zoneout: 0.25 }, 3);
    const file = path.join(dir, 'charlm.safetensors');
    fs.writeFileSync(file, saveCheckpoint({ model, optimizer: new Adam(model.modules), step: 7 }, 1e-3));
    const s = await start({ model: file });
    const h = await call(s, 'GET', '/healthz');
    expect(h.json.model).toMatchObject({ source: 'cellscan-charlm-1', cell: 'gru', prefix: 'rnn.', inputSize: 6, hiddenSize: 5, numLayers: 2 });
    const x = numbers(4 * 6, 13);
    const a = await call(s, 'POST', '/v1/forward', { input: nested(x, 4, 6) });
    expect(a.status).toBe(200);
    // The trained layer in evaluation mode (zoneout's expectation), as `cellscan sample` runs it;
    // CharModel is the library's source, so its own Tensor class.
    const want = model.rnn.forward(new SrcTensor(x, [4, 1, 6]));
    expectClose(flat(a.json.output as number[][]), want.output.data);
    expectClose(flat(a.json.hN as number[][]), want.hN.data);
    const c0 = await call(s, 'POST', '/v1/forward', { input: nested(x, 4, 6), c0: [[0]] });
    expect(c0.status).toBe(400);
    expect(c0.json).toEqual({ error: 'c0 is only for an LSTM, this model is a GRU' });
  });

  test('a state dict nested under a prefix: found alone or given, sizes from the shapes', async () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 5 });
    const d: Record<string, Tensor> = { 'encoder.weight': new Tensor(numbers(12, 1), [4, 3]) };
    for (const [k, t] of gru.stateDict()) d[`rnn.${k}`] = t;
    const file = path.join(dir, 'nested.safetensors');
    fs.writeFileSync(file, saveSafetensors(d));
    const found = loadModel(file);
    expect(found.info).toMatchObject({ prefix: 'rnn.', cell: 'gru', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, outputSize: 8, states: 4 });
    const s = await start({ model: file, prefix: 'rnn.' });
    const x = numbers(5 * 3, 14);
    const a = await call(s, 'POST', '/v1/forward', { input: nested(x, 5, 3) });
    expect(a.status).toBe(200);
    const want = reference(gru, x);
    expectClose(flat(a.json.output as number[][]), want.output);
    expectClose(flat(a.json.hN as number[][]), want.hN);
    expect(a.json.cN).toBeUndefined();
  });

  test('cells and options read from PyTorch names: projection, peepholes, RNN, no bias, --mode', () => {
    const write = (name: string, d: Map<string, Tensor>) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, saveSafetensors(d));
      return file;
    };
    const proj = loadModel(write('proj.safetensors', new LSTM({ inputSize: 3, hiddenSize: 6, projSize: 2, peepholes: true }).stateDict()));
    expect(proj.info).toMatchObject({ cell: 'lstm', hiddenSize: 6, projSize: 2, stateSize: 2 });
    expect((proj.layer as LSTM).peepholes).toBe(true);
    const rnnFile = write('rnn.safetensors', new RNN({ inputSize: 3, hiddenSize: 4, bias: false, nonlinearity: 'relu' }).stateDict());
    const rnn = loadModel(rnnFile, { mode: 'rnn_relu' }) as LoadedModel;
    expect(rnn.info.cell).toBe('rnn');
    expect(rnn.layer.bias).toBe(false);
    expect((rnn.layer as RNN & { nonlinearity: string }).nonlinearity).toBe('relu');
    expect(() => loadModel(rnnFile, { mode: 'gru' })).toThrow('--mode gru does not fit');
  });

  test('a bad file is one clear line', () => {
    const file = (name: string, bytes: Uint8Array | string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, bytes);
      return f;
    };
    const err = (f: string, o = {}) => {
      try {
        loadModel(f, o);
      } catch (e) {
        expect(e).toBeInstanceOf(ModelError);
        expect((e as Error).message).not.toContain('\n');
        return (e as Error).message;
      }
      throw new Error('loaded');
    };
    expect(err(path.join(dir, 'missing.safetensors'))).toMatch(/^cannot read .*missing\.safetensors: ENOENT/);
    expect(err(file('junk.safetensors', 'not a safetensors file at all'))).toMatch(/junk\.safetensors is not a valid \.safetensors file: loadSafetensors: header length/);
    const other = file('other.safetensors', saveSafetensors({ 'fc.weight': new Tensor(numbers(4, 1), [2, 2]) }));
    expect(err(other)).toMatch(/holds no recurrent layer \(no tensor named weight_ih_l0 or PREFIX\.weight_ih_l0\); its tensors: "fc\.weight"$/);
    const two: Record<string, Tensor> = {};
    for (const p of ['enc.', 'dec.']) for (const [k, t] of new GRU({ inputSize: 2, hiddenSize: 2 }).stateDict()) two[p + k] = t;
    const twoFile = file('two.safetensors', saveSafetensors(two));
    expect(err(twoFile)).toMatch(/holds 2 recurrent layers: pick one with --prefix \("enc\.", "dec\."\)$/);
    expect(err(twoFile, { prefix: 'x.' })).toMatch(/has no tensor "x\.weight_ih_l0" \(--prefix "x\."\)/);
    const short = new LSTM({ inputSize: 2, hiddenSize: 3 }).stateDict();
    short.delete('bias_hh_l0');
    expect(err(file('short.safetensors', saveSafetensors(short)))).toMatch(/the weights do not fit a LSTM\(inputSize 2, hiddenSize 3, numLayers 1\): .*missing "bias_hh_l0"/);
  });
});

describe('the process', () => {
  // npm test builds it first (pretest); run alone, these fail on a missing build rather than skip.
  test('the service was built (npm run build)', () => {
    expect({ file: MAIN, exists: fs.existsSync(MAIN) }).toEqual({ file: MAIN, exists: true });
  });

  function launch(args: string[]): Promise<{ child: ChildProcess; url: string; out: () => string }> {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearInterval(poll);
          resolve({ child, url: m[1], out: () => out });
        }
      }, 20);
      child.once('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`exited ${code}: ${out}`));
      });
    });
  }

  /** Until the service holds a request besides the asking one. */
  async function inFlight(url: string): Promise<void> {
    while (((await (await fetch(url + '/healthz')).json()) as { inFlight: number }).inFlight < 1) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  test('SIGTERM drains: a request in flight still gets 200, then the process exits 0', async () => {
    const { child, url, out } = await launch(['--model', lstmFile, '--port', '0']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const body = JSON.stringify({ input: nested(numbers(3 * I, 15), 3, I) });
    const answer = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = http.request(url + '/v1/forward', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      });
      req.on('error', reject);
      // Half the body now, the rest after SIGTERM: the request is in flight when the signal lands.
      req.write(body.slice(0, 20));
      void inFlight(url).then(() => {
        child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(20)), 200);
      });
    });
    const a = await answer;
    expect(a.status).toBe(200);
    expectClose(flat(a.json.output as number[][]), reference(lstm, numbers(3 * I, 15)).output);
    expect(await exited).toBe(0);
    expect(out()).toMatch(/SIGTERM: draining, 1 request\(s\) in flight/);
    expect(out()).toMatch(/drained, exiting/);
  });

  test('a bad model file: one line on stderr, exit code 2', () => {
    const r = spawnSync(process.execPath, [MAIN, '--model', path.join(dir, 'nope.safetensors')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cellscan-serve: cannot read .*nope\.safetensors: ENOENT/);
  });
});

describe('the load test report', () => {
  test('the Serving section replaces its earlier self and keeps the rest of RESULTS.md', () => {
    const file = '# results\n\n## Machine\n\nfast\n\n## Serving\n\nold numbers\n\n## Targets\n\nkept\n';
    const section = '## Serving\n\nnew numbers\n';
    expect(placeSection(file, section)).toBe('# results\n\n## Machine\n\nfast\n\n## Serving\n\nnew numbers\n\n## Targets\n\nkept\n');
    expect(placeSection('# results\n\n## Machine\n\nfast\n', section)).toBe('# results\n\n## Machine\n\nfast\n\n## Serving\n\nnew numbers\n');
    expect(placeSection(placeSection(file, section), section)).toBe(placeSection(file, section));
  });

  test('npm run bench carries the Serving section of the file it rewrites over to the new one', () => {
    const old = '# results\n\n## Machine\n\nslow\n\n## Serving\n\nload test\n\n## Targets\n\nold\n';
    expect(sectionOf(old, '## Serving')).toBe('## Serving\n\nload test\n');
    expect(sectionOf('# results\n\n## Targets\n\nold\n', '## Serving')).toBeUndefined();
    const fresh = '# results\n\n## Machine\n\nfast\n\n## Targets\n\nnew\n';
    expect(placeSection(fresh, sectionOf(old, '## Serving')!)).toBe('# results\n\n## Machine\n\nfast\n\n## Targets\n\nnew\n\n## Serving\n\nload test\n');
  });
});
