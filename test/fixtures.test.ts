// Every golden fixture (SPEC §6) through the public API, on every backend that loads: forward
// outputs and, where the fixture has them, every gradient.
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, Tensor } from '../src';
import type { RecurrentCell } from '../src/layers/cells';
import type { RecurrentLayer } from '../src/layers/recurrent';
import { backendRows, selectBackend } from './helpers/backends';
import {
  GRAD_TOL,
  OUTPUT_TOL,
  fixtureFiles,
  fixtureParameters,
  loadFixture,
  mismatch,
  type CellMode,
  type Fixture,
} from './helpers/fixtures';

export function layerFor(f: Fixture): RecurrentLayer {
  const c = f.config;
  const common = {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bias: c.bias,
    batchFirst: c.batchFirst,
    bidirectional: c.bidirectional,
    residual: c.residual,
    dropout: c.dropout,
    recurrentDropout: c.recurrentDropout,
    weightDropout: c.weightDropout,
  };
  const zoneout = c.zoneout;
  switch (c.mode as Exclude<typeof c.mode, CellMode>) {
    case 'LSTM':
      return new LSTM({ ...common, zoneout, projSize: c.projSize, peepholes: c.peepholes });
    case 'GRU':
      return new GRU({ ...common, zoneout: zoneout && { hidden: zoneout.hidden }, linearBeforeReset: c.linearBeforeReset });
    case 'RNN_TANH':
      return new RNN({ ...common, zoneout: zoneout && { hidden: zoneout.hidden }, nonlinearity: 'tanh' });
    case 'RNN_RELU':
      return new RNN({ ...common, zoneout: zoneout && { hidden: zoneout.hidden }, nonlinearity: 'relu' });
  }
}

export function cellFor(f: Fixture): RecurrentCell {
  const { inputSize, hiddenSize, bias } = f.config;
  switch (f.config.mode as CellMode) {
    case 'LSTMCell':
      return new LSTMCell({ inputSize, hiddenSize, bias });
    case 'GRUCell':
      return new GRUCell({ inputSize, hiddenSize, bias });
    case 'RNNCell_TANH':
      return new RNNCell({ inputSize, hiddenSize, bias, nonlinearity: 'tanh' });
    case 'RNNCell_RELU':
      return new RNNCell({ inputSize, hiddenSize, bias, nonlinearity: 'relu' });
  }
}

const isCell = (f: Fixture) => f.config.mode.includes('Cell');

/** A cell case: one step with a tape (SPEC §6: run with training: true), its gradients, its async twin. */
async function checkCell(f: Fixture): Promise<void> {
  const t = f.tensors;
  const cell = cellFor(f);
  cell.loadStateDict(fixtureParameters(f));
  const { h, c, tape } = cell.forward(t.get('input')!, { h0: t.get('h0'), c0: t.get('c0'), training: true });
  const problems = [mismatch('h', h.data, t.get('h')!.data, OUTPUT_TOL)];
  if (t.has('c')) problems.push(mismatch('c', c!.data, t.get('c')!.data, OUTPUT_TOL));
  else expect(c).toBeUndefined();
  const grads = cell.backward(tape!, { dh: t.get('dh'), dc: t.get('dc') });
  problems.push(mismatch('grad.input', grads.dInput.data, t.get('grad.input')!.data, GRAD_TOL));
  problems.push(mismatch('grad.h0', grads.dh0.data, t.get('grad.h0')!.data, GRAD_TOL));
  if (t.has('grad.c0')) problems.push(mismatch('grad.c0', grads.dc0!.data, t.get('grad.c0')!.data, GRAD_TOL));
  const g = cell.gradients();
  expect([...g.keys()].sort()).toEqual([...fixtureParameters(f).keys()].sort());
  for (const [name, grad] of g) problems.push(mismatch(`grad.${name}`, grad.data, t.get(`grad.${name}`)!.data, GRAD_TOL));
  // The async pair gives the same numbers, bit for bit.
  cell.zeroGrad();
  const a = await cell.forwardAsync(t.get('input')!, { h0: t.get('h0'), c0: t.get('c0'), training: true });
  expect(a.h.data).toEqual(h.data);
  const ag = await cell.backwardAsync(a.tape!, { dh: t.get('dh'), dc: t.get('dc') });
  expect(ag.dInput.data).toEqual(grads.dInput.data);
  for (const [name, grad] of cell.gradients()) expect([name, grad.data]).toEqual([name, g.get(name)!.data]);
  expect(problems.filter((p) => p !== '')).toEqual([]);
}

const files = fixtureFiles();

test('the fixture folder holds all 27 golden cases', () => {
  expect(files.length).toBeGreaterThanOrEqual(27);
});

describe.each(backendRows())('fixtures on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(files)('%s', async (file) => {
    const f = loadFixture(file);
    if (isCell(f)) return checkCell(f);
    const t = f.tensors;
    const layer = layerFor(f);
    layer.loadStateDict(fixtureParameters(f));
    // Variant cases hold the evaluation-mode function's gradients (a tape without training).
    const evaluation = f.config.tape === true;
    const backward = f.config.hasGradients;
    const mode = evaluation ? { tape: true } : { training: backward };
    const { output, hN, cN, tape } = layer.forward(t.get('input')!, {
      h0: t.get('h0'),
      c0: t.get('c0'),
      lengths: t.get('lengths'),
      ...mode,
    });
    const problems = [
      mismatch('output', output.data, t.get('output')!.data, OUTPUT_TOL),
      mismatch('hN', hN.data, t.get('hN')!.data, OUTPUT_TOL),
    ];
    expect(output.shape).toEqual(t.get('output')!.shape);
    if (t.has('cN')) problems.push(mismatch('cN', cN!.data, t.get('cN')!.data, OUTPUT_TOL));
    else expect(cN).toBeUndefined();

    if (backward) {
      const grads = layer.backward(tape!, { dOutput: t.get('dOutput'), dhN: t.get('dhN'), dcN: t.get('dcN') });
      problems.push(mismatch('grad.input', grads.dInput.data, t.get('grad.input')!.data, GRAD_TOL));
      // Fixtures without an initial state carry no grad.h0 / grad.c0; the gradient exists regardless.
      if (t.has('grad.h0')) problems.push(mismatch('grad.h0', grads.dh0.data, t.get('grad.h0')!.data, GRAD_TOL));
      if (t.has('grad.c0')) problems.push(mismatch('grad.c0', grads.dc0!.data, t.get('grad.c0')!.data, GRAD_TOL));
      const g = layer.gradients();
      expect([...g.keys()].sort()).toEqual([...fixtureParameters(f).keys()].sort());
      for (const [name, grad] of g) {
        const want = t.get(`grad.${name}`);
        if (!want) problems.push(`grad.${name}: missing from the fixture`);
        else problems.push(mismatch(`grad.${name}`, grad.data, want.data, GRAD_TOL));
      }
      // The async pair must give the same numbers, bit for bit.
      layer.zeroGrad();
      const a = await layer.forwardAsync(t.get('input')!, {
        h0: t.get('h0'),
        c0: t.get('c0'),
        lengths: t.get('lengths'),
        ...mode,
      });
      expect(a.output.data).toEqual(output.data);
      const ag = await layer.backwardAsync(a.tape!, { dOutput: t.get('dOutput'), dhN: t.get('dhN'), dcN: t.get('dcN') });
      expect(ag.dInput.data).toEqual(grads.dInput.data);
      for (const [name, grad] of layer.gradients()) expect([name, grad.data]).toEqual([name, g.get(name)!.data]);
    }
    expect(problems.filter((p) => p !== '')).toEqual([]);
  });
});

void Tensor;
