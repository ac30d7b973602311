// An inference forward of a stack with nothing between its layers goes to the backend as one call in
// stages (src/layers/recurrent.ts, forwardWalk), so an async one stays on its threads from the first
// layer to the last. Anything between the layers (a residual sum, dropout masks, a tape for backward)
// sends them one layer at a time. Either way the results are the same bits.
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, useBackend } from '../src';
import { activeBackend } from '../src/backend/select';
import { backendRows } from './helpers/backends';

function bits(t: Tensor | undefined): number[] {
  return t === undefined ? [] : Array.from(new Uint32Array(Float32Array.from(t.data as Float32Array).buffer));
}

function input(T: number, B: number, I: number, seed: number): Tensor {
  return new Tensor(Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(i * 0.37 + seed)), [T, B, I]);
}

interface Case {
  name: string;
  layer: () => RecurrentLayer;
  options?: { lengths?: Int32Array; training?: boolean; tape?: boolean };
  /** Backend calls an async forward makes. */
  calls: number;
}

const cases: Case[] = [
  { name: 'LSTM of 3 layers', layer: () => new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 3, seed: 1 }), calls: 1 },
  {
    name: 'bidirectional GRU of 2 layers, with lengths',
    layer: () => new GRU({ inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, seed: 2 }),
    options: { lengths: new Int32Array([7, 3, 5]) },
    calls: 1,
  },
  {
    name: 'LSTM with projection and zoneout (its expectation at inference)',
    layer: () => new LSTM({ inputSize: 5, hiddenSize: 6, projSize: 3, numLayers: 2, zoneout: 0.2, seed: 3 }),
    calls: 1,
  },
  {
    name: 'bidirectional LSTM of 33 layers: 66 directions, cut at 64 calls',
    layer: () => new LSTM({ inputSize: 5, hiddenSize: 4, numLayers: 33, bidirectional: true, seed: 4 }),
    calls: 2,
  },
  { name: 'residual RNN: the sum between layers', layer: () => new RNN({ inputSize: 6, hiddenSize: 6, numLayers: 3, residual: true, seed: 5 }), calls: 3 },
  {
    name: 'LSTM in training without a tape: dropout between layers',
    layer: () => new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 3, dropout: 0.3, seed: 6 }),
    options: { training: true, tape: false },
    calls: 3,
  },
  { name: 'LSTM in training: a tape', layer: () => new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 2, seed: 7 }), options: { training: true }, calls: 2 },
];

describe.each(backendRows())('%s: a stack in one backend call', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('auto'));
  afterEach(() => jest.restoreAllMocks());

  test.each(cases)('$name', async (c) => {
    const x = input(7, 3, c.layer().inputSize, 0.5);
    // Two layers with the same seed: training draws its masks from the layer's own stream, so each
    // run gets a fresh one that draws the same masks.
    const sync = c.layer().forward(x, c.options);
    const layer = c.layer();
    const sent = jest.spyOn(activeBackend(), 'forwardLayersAsync');
    const got = await layer.forwardAsync(x, c.options);
    expect(sent).toHaveBeenCalledTimes(c.calls);
    expect([bits(got.output), bits(got.hN), bits(got.cN)]).toEqual([bits(sync.output), bits(sync.hN), bits(sync.cN)]);
  });
});
