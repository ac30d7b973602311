// Load PyTorch LSTM weights from a .safetensors file, run forward and backward, print shapes.
//
//   node examples/quickstart.mjs [weights.safetensors]
//
// Make the file in Python with:
//   import torch; from safetensors.torch import save_file
//   save_file(torch.nn.LSTM(8, 16, num_layers=2).state_dict(), "lstm.safetensors")
// Without an argument the example writes such a file itself (random weights), then reads it back.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LSTM, Tensor, currentBackend, loadSafetensors, saveSafetensors } from 'cellscan';

function standInWeights() {
  const file = join(tmpdir(), 'cellscan-quickstart-lstm.safetensors');
  writeFileSync(file, saveSafetensors(new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 1 }).stateDict()));
  return file;
}

const file = process.argv[2] ?? standInWeights();
const weights = loadSafetensors(readFileSync(file));

// The sizes follow from PyTorch's parameter shapes: weight_ih_l0 is [4*H, inputSize].
const [gates, inputSize] = weights.get('weight_ih_l0').shape;
const numLayers = [...weights.keys()].filter((k) => /^weight_ih_l\d+$/.test(k)).length;
const lstm = new LSTM({ inputSize, hiddenSize: gates / 4, numLayers });
lstm.loadStateDict(weights);

const T = 5, B = 3;
const x = new Tensor(Float32Array.from({ length: T * B * inputSize }, (_, i) => Math.sin(i)), [T, B, inputSize]);
const { output, hN, cN, tape } = lstm.forward(x, { training: true });

// Backward of L = sum(output): gradients with respect to the input and every parameter.
const dOutput = new Tensor(new Float32Array(output.size).fill(1), output.shape);
const { dInput, dh0, dc0 } = lstm.backward(tape, { dOutput });

const show = (name, t) => console.log(`${name.padEnd(22)} [${t.shape.join(', ')}]`);
console.log(`weights: ${file} (backend: ${currentBackend()})`);
show('input', x);
show('output', output);
show('hN', hN);
show('cN', cN);
show('dInput', dInput);
show('dh0', dh0);
show('dc0', dc0);
for (const [name, g] of lstm.gradients()) show(`grad ${name}`, g);
