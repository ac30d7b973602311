// Runs inside a fresh project that installed the cellscan tarball with --ignore-scripts, as a user's
// code would: require('cellscan') must find the prebuilt addon by itself (nothing was built, no
// install script ran), and that addon must compute a golden fixture within the fixture tolerance.
// Usage: node consumer.js FIXTURE.safetensors. Prints backends() and the worst errors; exits 1 on a problem.
'use strict';
const fs = require('fs');
const path = require('path');
const cellscan = require('cellscan');

const OUTPUT_TOL = { atol: 2e-5, rtol: 1e-4 };
const GRAD_TOL = { atol: 1e-4, rtol: 1e-3 };
const problems = [];

/** Elementwise |a - b| <= atol + rtol * |b| (SPEC §6); records a problem naming the worst element. */
function compare(what, actual, expected, tol) {
  if (actual.length !== expected.length) {
    problems.push(`${what}: ${actual.length} elements, the fixture has ${expected.length}`);
    return;
  }
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (tol.atol + tol.rtol * Math.abs(expected[i]));
    if (!(excess <= worst)) {
      worst = excess;
      worstAt = i;
    }
  }
  if (worstAt >= 0) problems.push(`${what}[${worstAt}]: ${actual[worstAt]}, the fixture has ${expected[worstAt]}`);
}

const report = cellscan.backends();
console.log(`backends(): ${JSON.stringify(report, null, 2)}`);
const native = report.find((b) => b.name === 'native');
const packageRoot = path.dirname(require.resolve('cellscan/package.json'));
const prebuilt = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'cellscan.node');
if (!native || !native.available) {
  problems.push(`the native backend did not load: ${native ? native.reason : 'backends() has no native entry'}`);
} else if (!native.binary || native.binary.origin !== 'prebuilt') {
  problems.push(`native loaded, but not the prebuilt binary: ${JSON.stringify(native.binary)}`);
} else if (fs.realpathSync(native.binary.path) !== fs.realpathSync(prebuilt)) {
  problems.push(`native loaded ${native.binary.path}, expected the package's ${prebuilt}`);
}
if (fs.existsSync(path.join(packageRoot, 'build'))) problems.push(`${packageRoot}/build exists: something compiled during the install`);

if (problems.length === 0) {
  cellscan.useBackend('native');
  const file = process.argv[2];
  const t = cellscan.loadSafetensors(new Uint8Array(fs.readFileSync(file)));
  const c = JSON.parse(t.metadata.config);
  const Layer = { LSTM: cellscan.LSTM, GRU: cellscan.GRU, RNN_TANH: cellscan.RNN, RNN_RELU: cellscan.RNN }[c.mode];
  if (!Layer) throw new Error(`${file}: mode ${c.mode} is not a layer case`);
  const layer = new Layer({
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    batchFirst: c.batchFirst,
    bias: c.bias,
    ...(c.mode.startsWith('RNN') ? { nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' } : {}),
  });
  const parameters = new Map([...t].filter(([name]) => name.startsWith('weight_') || name.startsWith('bias_')));
  layer.loadStateDict(parameters);
  const { output, hN, cN, tape } = layer.forward(t.get('input'), {
    h0: t.get('h0'),
    c0: t.get('c0'),
    lengths: t.get('lengths'),
    training: true,
  });
  compare('output', output.data, t.get('output').data, OUTPUT_TOL);
  compare('hN', hN.data, t.get('hN').data, OUTPUT_TOL);
  if (t.has('cN')) compare('cN', cN.data, t.get('cN').data, OUTPUT_TOL);
  const grads = layer.backward(tape, { dOutput: t.get('dOutput'), dhN: t.get('dhN'), dcN: t.get('dcN') });
  compare('grad.input', grads.dInput.data, t.get('grad.input').data, GRAD_TOL);
  if (t.has('grad.h0')) compare('grad.h0', grads.dh0.data, t.get('grad.h0').data, GRAD_TOL);
  if (t.has('grad.c0')) compare('grad.c0', grads.dc0.data, t.get('grad.c0').data, GRAD_TOL);
  for (const [name, grad] of layer.gradients()) compare(`grad.${name}`, grad.data, t.get(`grad.${name}`).data, GRAD_TOL);
  console.log(`${path.basename(file)} on native (${native.binary.origin} ${native.binary.path}): output, states and ${layer.gradients().size} parameter gradients within tolerance: ${problems.length === 0}`);
}

if (problems.length > 0) {
  console.error(`package install check failed:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}
