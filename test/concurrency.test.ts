// Overlapping async calls give each caller exactly what the synchronous call gives, bit for bit:
// on one layer and across layers, forward and training, and with the weights replaced while calls
// are in flight (a call computes with the weights it started with; the next one with the new).
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

function random(rng: Rng, shape: readonly number[], scale = 1): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -scale, scale);
  return new Tensor(data, [...shape]);
}

interface Call {
  x: Tensor;
  lengths: number[];
}

function calls(rng: Rng, layer: RecurrentLayer, n: number): Call[] {
  return Array.from({ length: n }, (_, i) => {
    const T = 4 + (i % 5) * 3;
    const B = 1 + ((i * 7) % 9);
    return {
      x: random(rng, [T, B, layer.inputSize]),
      lengths: Array.from({ length: B }, (_, b) => T - ((b * 3 + i) % T)),
    };
  });
}

function newWeights(layer: RecurrentLayer, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [name, t] of layer.parameters()) out.set(name, random(rng, t.shape, 0.3));
  return out;
}

describe.each(backendRows())('concurrent calls on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  const make = () => [
    new LSTM({ inputSize: 24, hiddenSize: 48, numLayers: 2, bidirectional: true, seed: 1 }),
    new GRU({ inputSize: 24, hiddenSize: 64, seed: 2 }),
    new RNN({ inputSize: 24, hiddenSize: 96, numLayers: 2, seed: 3 }),
  ];

  test('40 forwardAsync calls over three layers at once equal their synchronous twins', async () => {
    const layers = make();
    const rng = new Rng(7);
    const work = layers.flatMap((layer) => calls(rng, layer, 13).map((c) => ({ layer, ...c })));
    const expected = work.map(({ layer, x, lengths }) => layer.forward(x, { lengths }));
    const got = await Promise.all(work.map(({ layer, x, lengths }) => layer.forwardAsync(x, { lengths })));
    got.forEach((r, i) => {
      expect(r.output.data).toEqual(expected[i].output.data);
      expect(r.hN.data).toEqual(expected[i].hN.data);
      if (expected[i].cN) expect(r.cN!.data).toEqual(expected[i].cN!.data);
    });
  });

  test('overlapping training calls: each backwardAsync equals its synchronous twin, gradients add up', async () => {
    const rng = new Rng(11);
    const [lstm] = make();
    const work = calls(rng, lstm, 8).map((c) => ({ ...c, dY: random(rng, [c.x.shape[0], c.x.shape[1], 2 * lstm.hiddenSize]) }));
    // Synchronous, one call at a time: each call's own input gradient, and the gradients summed.
    const sync = work.map(({ x, lengths, dY }) => {
      const f = lstm.forward(x, { lengths, training: true });
      return { f, g: lstm.backward(f.tape!, { dOutput: dY }) };
    });
    const total = [...lstm.gradients().values()].map((t) => (t.data as Float32Array).slice());
    lstm.zeroGrad();

    const forwards = await Promise.all(work.map(({ x, lengths }) => lstm.forwardAsync(x, { lengths, training: true })));
    const backwards = await Promise.all(forwards.map((f, i) => lstm.backwardAsync(f.tape!, { dOutput: work[i].dY })));
    forwards.forEach((f, i) => expect(f.output.data).toEqual(sync[i].f.output.data));
    backwards.forEach((g, i) => {
      expect(g.dInput.data).toEqual(sync[i].g.dInput.data);
      expect(g.dh0.data).toEqual(sync[i].g.dh0.data);
    });
    // Added in completion order, which may differ from the synchronous order: equal to rounding.
    let worst = 0;
    [...lstm.gradients().values()].forEach((t, k) => {
      const want = total[k];
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(t.data[j] - want[j]) / Math.max(1, Math.abs(want[j])));
    });
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  test.each(['loadStateDict', 'parametersChanged'])('%s while calls are in flight: each computes with the weights it started with', async (how) => {
    const rng = new Rng(13);
    const [lstm, gru, rnn] = make();
    for (const layer of [lstm, gru, rnn]) {
      const [first, second] = calls(rng, layer, 2);
      const before = layer.forward(first.x, { lengths: first.lengths });
      const replacement = newWeights(layer, 99);

      const inFlight = layer.forwardAsync(first.x, { lengths: first.lengths });
      const tapeCall = layer.forwardAsync(first.x, { lengths: first.lengths, training: true });
      if (how === 'loadStateDict') {
        layer.loadStateDict(replacement);
      } else {
        for (const [name, t] of layer.parameters()) t.data.set(replacement.get(name)!.data);
        layer.parametersChanged();
      }
      const after = layer.forwardAsync(second.x, { lengths: second.lengths });

      expect((await inFlight).output.data).toEqual(before.output.data);
      expect((await after).output.data).toEqual(layer.forward(second.x, { lengths: second.lengths }).output.data);
      // A tape keeps the weights its forward used: backward differentiates that same function.
      const tape = (await tapeCall).tape!;
      expect((await tapeCall).output.data).toEqual(before.output.data);
      const dY = random(rng, [first.x.shape[0], first.x.shape[1], layer.directions * layer.hiddenSize]);
      const g = await layer.backwardAsync(tape, { dOutput: dY });
      const old = make()[[lstm, gru, rnn].indexOf(layer)];
      const want = old.backward(old.forward(first.x, { lengths: first.lengths, training: true }).tape!, { dOutput: dY });
      expect(g.dInput.data).toEqual(want.dInput.data);
    }
  });
});
