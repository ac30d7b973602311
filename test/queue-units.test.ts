// The queue's parts that need no Redis: the binary shard format, the model blob and its hash, the
// sweep's grid, the argument checks of InferenceQueue, and the command-line mistakes of `worker`
// and `sweep` (status 2, one `cellscan: ...` line).
import { spawnSync } from 'child_process';
import { GRU, InferenceQueue, LSTM, RNN, Tensor } from '../src';
import { decodeModel, encodeModel, encodeModelOnce } from '../src/queue/model-blob';
import { packBatch, unpackRow } from '../src/serve/batch';
import { layerShape } from '../src/serve/request';
import { decodeInputs, decodeResults, encodeBatchResults, encodeResults, inputPieces } from '../src/queue/shard-codec';
import { ResultBuffers } from '../src/queue/result-buffers';
import { parseGrid } from '../src/queue/sweep-grid';
import { CLI } from './helpers/workers';

const floats = (n: number, at = 0) => Float32Array.from({ length: n }, (_, i) => at + i * 0.5);
const encodeInputs = (seqs: { T: number; x: Float32Array }[], inputSize: number) => Buffer.concat(inputPieces(seqs, inputSize));

describe('shard format', () => {
  test('inputs round-trip, empty sequences included, from a buffer at any byte offset', () => {
    const seqs = [{ T: 3, x: floats(6) }, { T: 0, x: floats(0) }, { T: 1, x: floats(2, 7) }];
    const bytes = encodeInputs(seqs, 2);
    const shifted = new Uint8Array(bytes.length + 3).subarray(3);
    shifted.set(bytes);
    for (const b of [bytes, shifted]) {
      const d = decodeInputs(b);
      expect(d.inputSize).toBe(2);
      expect(d.seqs.map((s) => s.T)).toEqual([3, 0, 1]);
      expect([...d.seqs[0].x]).toEqual([...floats(6)]);
      expect([...d.seqs[2].x]).toEqual([...floats(2, 7)]);
    }
  });

  test('results round-trip with and without cN, as views of their bytes unless misaligned', () => {
    const row = (T: number, cell: boolean) => ({
      output: new Tensor(floats(T * 3), [T, 3]),
      hN: new Tensor(floats(4, 100), [2, 2]),
      ...(cell ? { cN: new Tensor(floats(8, 200), [2, 4]) } : {}),
    });
    for (const cell of [true, false]) {
      const rows = [row(2, cell), row(0, cell)];
      const back = decodeResults(encodeResults(rows, { width: 3, states: 2, outputSize: 2, cellSize: cell ? 4 : 0 }));
      expect(back).toHaveLength(2);
      back.forEach((r, k) => {
        expect(r.output.shape).toEqual(rows[k].output.shape);
        expect([...r.output.data]).toEqual([...rows[k].output.data]);
        expect([...r.hN.data]).toEqual([...rows[k].hN.data]);
        expect(r.cN === undefined).toBe(!cell);
        if (cell) expect([...r.cN!.data]).toEqual([...rows[k].cN!.data]);
      });
      // Views of the bytes when they are aligned for float32; a copy when not.
      const bytes = encodeResults(rows, { width: 3, states: 2, outputSize: 2, cellSize: cell ? 4 : 0 });
      expect(decodeResults(bytes)[0].output.data.buffer).toBe(bytes.buffer);
      const shifted = new Uint8Array(bytes.length + 1).subarray(1);
      shifted.set(bytes);
      const copied = decodeResults(shifted);
      shifted.fill(0);
      expect([...copied[0].output.data]).toEqual([...rows[0].output.data]);
    }
  });

  test('results written straight from a batched forward are the bytes of its rows unpacked one by one', () => {
    const layers = [
      new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 1 }),
      new GRU({ inputSize: 3, hiddenSize: 5, batchFirst: true, seed: 2 }),
      new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, batchFirst: true, seed: 3 }),
    ];
    for (const layer of layers) {
      const shape = layerShape(layer);
      const seqs = [5, 2, 7, 1].map((T, k) => ({ T, x: floats(T * 3, k) }));
      const order = [2, 0, 1, 3];
      const batch = packBatch(shape, order.map((k) => seqs[k]));
      const r = layer.forward(batch.input, batch.options);
      const batchRow: number[] = [];
      order.forEach((k, b) => (batchRow[k] = b));
      const layout = { width: shape.width, states: shape.states, outputSize: shape.outputSize, cellSize: shape.hasCellState ? shape.hiddenSize : 0 };
      const rows = seqs.map((s, k) => unpackRow(shape, r, batch, batchRow[k], s.T));
      const direct = encodeBatchResults(r, batchRow, seqs.map((s) => s.T), layout, shape.batchFirst);
      expect(direct.equals(encodeResults(rows, layout))).toBe(true);
    }
  });

  test('bytes that are no shard are an error, never a read past the end', () => {
    const good = encodeInputs([{ T: 2, x: floats(4) }], 2);
    expect(() => decodeInputs(good.subarray(0, 4))).toThrow(/too short for a header/);
    expect(() => decodeInputs(good.subarray(0, good.length - 4))).toThrow(/expected/);
    expect(() => decodeResults(good)).toThrow(/wrong magic number/);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(1e9, 4);
    expect(() => decodeInputs(huge)).toThrow(/too short for 1000000000 rows/);
  });
});

describe('worker result buffers', () => {
  test('a buffer given back serves the next shard that fits in it, at offset 0; at most `kept` wait', () => {
    const pool = new ResultBuffers(1);
    const big = pool.take(400);
    expect(big.byteOffset).toBe(0);
    pool.give(big);
    const again = pool.take(100);
    expect(again.buffer).toBe(big.buffer);
    expect([again.byteOffset, again.byteLength]).toEqual([0, 100]);
    expect(pool.take(100).buffer).not.toBe(big.buffer); // the one in hand is not handed out twice
    pool.give(again);
    pool.give(pool.take(800));
    expect(pool.take(300).buffer.byteLength).toBe(800); // the smaller one was let go
  });
});

describe('model blob', () => {
  test('every kind of layer comes back with its options and weights', () => {
    const layers = [
      new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, projSize: 2, peepholes: true, bidirectional: true, batchFirst: true, seed: 1 }),
      new GRU({ inputSize: 3, hiddenSize: 4, linearBeforeReset: false, zoneout: 0.3, bias: false, seed: 2 }),
      new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu', numLayers: 2, residual: true, dropout: 0.5, seed: 3 }),
    ];
    for (const layer of layers) {
      const back = decodeModel(encodeModel(layer).bytes);
      expect(back.constructor).toBe(layer.constructor);
      for (const key of ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'residual', 'zoneout']) {
        expect((back as unknown as Record<string, unknown>)[key]).toEqual((layer as unknown as Record<string, unknown>)[key]);
      }
      expect([...back.stateDict()].map(([k, t]) => [k, [...t.data]])).toEqual([...layer.stateDict()].map(([k, t]) => [k, [...t.data]]));
    }
  });

  test('an unchanged layer gets its last blob back; a weight changed in place, a new one', () => {
    const layer = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 4 });
    const first = encodeModelOnce(layer);
    expect(first.hash).toBe(encodeModel(layer).hash);
    expect(encodeModelOnce(layer)).toBe(first);
    const w = layer.parameters().get('weight_hh_l1')!.data as Float32Array;
    const was = w[5];
    w[5] = was + 1; // in place, without parametersChanged()
    const second = encodeModelOnce(layer);
    expect(second.hash).not.toBe(first.hash);
    expect(second.hash).toBe(encodeModel(layer).hash);
    w[5] = was;
    expect(encodeModelOnce(layer).hash).toBe(first.hash);
  });

  test('the hash names the weights and options, not the seed they started from', () => {
    const a = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const b = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 2 });
    expect(encodeModel(a).hash).not.toBe(encodeModel(b).hash);
    b.loadStateDict(a.stateDict());
    expect(encodeModel(b).hash).toBe(encodeModel(a).hash);
    expect(encodeModel(new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1, batchFirst: true })).hash).not.toBe(encodeModel(a).hash);
  });

  test('bytes of another format are refused', () => {
    expect(() => decodeModel(new Uint8Array(4))).toThrow();
  });
});

describe('sweep grid', () => {
  const train = { hidden: { type: 'string' }, zoneout: { type: 'string' }, residual: { type: 'boolean' }, model: { type: 'string' } } as const;

  test('every combination, the first flag varying slowest', () => {
    const points = parseGrid('hidden=128,256  zoneout=0,0.1 residual=true,false', train, new Set());
    expect(points.map((p) => p.label)).toEqual([
      'hidden=128 zoneout=0 residual=true', 'hidden=128 zoneout=0 residual=false',
      'hidden=128 zoneout=0.1 residual=true', 'hidden=128 zoneout=0.1 residual=false',
      'hidden=256 zoneout=0 residual=true', 'hidden=256 zoneout=0 residual=false',
      'hidden=256 zoneout=0.1 residual=true', 'hidden=256 zoneout=0.1 residual=false',
    ]);
    expect(points[2].flags).toEqual(['--hidden', '128', '--zoneout', '0.1', '--residual']);
    expect(points[3].flags).toEqual(['--hidden', '128', '--zoneout', '0.1']);
    expect(points[2].stem).toBe('hidden-128_zoneout-0.1_residual-true');
  });

  test('mistakes name the flag', () => {
    expect(() => parseGrid('', train, new Set())).toThrow(/at least one flag/);
    expect(() => parseGrid('width=3', train, new Set())).toThrow(/"width" is not a flag of cellscan train/);
    expect(() => parseGrid('model=a,b', train, new Set())).toThrow(/--model cannot be swept/);
    expect(() => parseGrid('hidden=1 hidden=2', train, new Set())).toThrow(/hidden appears twice/);
    expect(() => parseGrid('hidden=1,', train, new Set())).toThrow(/values separated by commas/);
    expect(() => parseGrid('hidden', train, new Set())).toThrow(/NAME=V1,V2/);
    expect(() => parseGrid('residual=yes', train, new Set())).toThrow(/true or false/);
    expect(() => parseGrid('hidden=8', train, new Set(['hidden']))).toThrow(/--hidden is given both as a flag and in the grid/);
  });
});

describe('InferenceQueue arguments', () => {
  const layer = new LSTM({ inputSize: 3, hiddenSize: 4 });

  test('the constructor checks its connection, name and timeout', () => {
    expect(() => new InferenceQueue(undefined as never)).toThrow(TypeError);
    expect(() => new InferenceQueue({} as never)).toThrow(/InferenceQueue: connection must be a redis:\/\/ URL .* or \{ host, port \}, got undefined/);
    expect(() => new InferenceQueue({ connection: 'http://x:1' })).toThrow(RangeError);
    expect(() => new InferenceQueue({ connection: { host: 'h', port: 70000 } })).toThrow(/connection\.port must be an integer in 1\.\.65535, got 70000/);
    expect(() => new InferenceQueue({ connection: { host: 'h', port: 1, db: 2 } as never })).toThrow(/unknown connection key "db"/);
    expect(() => new InferenceQueue({ connection: 'redis://h:1', name: 'a:b' })).toThrow(/name must be 1-64 letters, digits, "-", "_" or "\.", got "a:b"/);
    expect(() => new InferenceQueue({ connection: 'redis://h:1', redisTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new InferenceQueue({ connection: 'redis://h:1', shardSize: 3 } as never)).toThrow(/unknown options key "shardSize"/);
  });

  test('run checks its arguments before it connects', async () => {
    // Nothing listens on port 1: each of these must fail on its own check, not on the connection.
    const q = new InferenceQueue({ connection: { host: '127.0.0.1', port: 1 }, redisTimeoutMs: 100 });
    const x = new Tensor(new Float32Array(6), [2, 3]);
    await expect(q.run({} as never, [x])).rejects.toThrow(/InferenceQueue\.run: layer must be an LSTM, GRU or RNN/);
    await expect(q.run(layer, x as never)).rejects.toThrow(/inputs must be an array of float32 Tensors \[T, 3\]/);
    await expect(q.run(layer, [x, new Tensor(new Float32Array(4), [2, 2])])).rejects.toThrow(/inputs\[1\] must be a float32 Tensor of shape \[T, 3\], got a float32 Tensor of shape \[2, 2\]/);
    await expect(q.run(layer, [x], { shardSize: 0 })).rejects.toThrow(/shardSize must be a positive integer, got 0/);
    await expect(q.run(layer, [x], { onProgress: 3 as never })).rejects.toThrow(/onProgress must be a function/);
    await expect(q.run(layer, [])).resolves.toEqual([]);
    await q.close();
    await expect(q.run(layer, [x])).rejects.toThrow(/the queue is closed/);
  });
});

describe('worker and sweep on the command line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const url = 'redis://127.0.0.1:1';

  test.each([
    [['worker'], /^cellscan: worker needs --redis URL/],
    [['worker', '--redis', 'localhost:6379'], /^cellscan: --redis must be a redis:\/\/ URL/],
    [['worker', '--redis', url, '--concurrency', '0'], /^cellscan: --concurrency must be a positive integer, got "0"/],
    [['sweep', '--redis', url, '--grid', 'hidden=8'], /^cellscan: sweep needs --text FILE/],
    [['sweep', '--redis', url, '--text', __filename, '--grid', 'width=8'], /^cellscan: --grid: "width" is not a flag of cellscan train/],
    [['sweep', '--redis', url, '--text', __filename, '--grid', 'hidden=8', '--threads', '2'], /^cellscan: sweep takes no --threads: each worker sets its own/],
  ])('%j exits 2 with one line', (args, message) => {
    const r = run(...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
  });

  test('help lists both', () => {
    const r = run('help');
    expect(r.stdout).toMatch(/^ {2}worker {3}/m);
    expect(r.stdout).toMatch(/^ {2}sweep {4}/m);
  });
});
