// The built package as users load it: require('cellscan') and import { LSTM } from 'cellscan'.
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const exported = ['Tensor', 'LSTM', 'GRU', 'RNN', 'Tape', 'loadSafetensors', 'saveSafetensors', 'backends', 'useBackend', 'currentBackend', 'setNumThreads', 'exportONNX', 'Batcher', 'QueueFullError', 'BatcherClosedError'];

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

test('require("cellscan") exposes the public API', () => {
  const out = node(['-e', `const c = require('cellscan'); console.log(JSON.stringify(${JSON.stringify(exported)}.map((k) => typeof c[k])))`]);
  expect(JSON.parse(out)).toEqual(exported.map(() => 'function'));
});

test('import { LSTM } from "cellscan" works from an ES module and runs a forward', () => {
  const code = `import { LSTM, Tensor } from 'cellscan';
const m = new LSTM({ inputSize: 2, hiddenSize: 3 });
const { output } = m.forward(Tensor.zeros([4, 1, 2]));
console.log(output.shape.join('x'));`;
  expect(node(['--input-type=module', '-e', code])).toBe('4x1x3');
});

test('type declarations are emitted for the entry point', () => {
  expect(node(['-e', "console.log(require('fs').existsSync(require.resolve('cellscan').replace(/\\.js$/, '.d.ts')))"])).toBe('true');
});
