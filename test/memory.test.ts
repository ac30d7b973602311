// Memory that does not grow: long training loops, and layers dropped by the thousand (their native
// workspaces and WASM memory go with them, through finalizers). Each case runs in a child process
// of its own (with --expose-gc) so that jest's own heap does not blur the resident set it reads.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { backendRows } from './helpers/backends';

const DIST = path.join(__dirname, '..', 'dist', 'index.js');

/** Runs `body` (JavaScript, with cellscan's exports in scope) in a child; returns its JSON output. */
function child(backend: string, body: string): Record<string, number> {
  const script = `
    const c = require(${JSON.stringify(DIST)});
    c.useBackend(${JSON.stringify(backend)});
    const { LSTM, GRU, Tensor } = c;
    const rss = () => { global.gc(); global.gc(); return process.memoryUsage().rss / 2 ** 20; };
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    (async () => { ${body} })().catch((e) => { console.error(e); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe.each(backendRows())('memory on %s', (backend) => {
  test('30,000 training steps grow the resident set by less than 32 MiB', () => {
    const r = child(
      backend,
      `
      const layer = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, seed: 1 });
      const x = new Tensor(Float32Array.from({ length: 6 * 3 * 8 }, (_, i) => Math.sin(i)), [6, 3, 8]);
      const dOutput = new Tensor(new Float32Array(6 * 3 * 16).fill(0.01), [6, 3, 16]);
      const step = () => {
        const f = layer.forward(x, { training: true, lengths: [6, 4, 1] });
        layer.backward(f.tape, { dOutput });
        // An optimizer's update: every parameter changes, so every step repacks the weights.
        for (const [name, p] of layer.parameters()) {
          const g = layer.gradients().get(name);
          for (let i = 0; i < p.data.length; i++) p.data[i] -= 1e-4 * g.data[i];
        }
        layer.parametersChanged();
        layer.zeroGrad();
      };
      // Until the heaps have grown to what a step uses (the WASM backend's, which never shrinks, takes
      // a few thousand steps of packed layers freed by finalizers to level out).
      for (let i = 0; i < 10000; i++) { step(); if (i % 100 === 0) await turn(); }
      // The resident set moves by tens of MiB from one reading to the next (the young generation,
      // finalizers): each end is the median of three readings, 3,000 steps apart.
      const readings = [rss()];
      for (let i = 1; i <= 30000; i++) { step(); if (i % 100 === 0) await turn(); if (i % 3000 === 0) readings.push(rss()); }
      const median3 = (a) => [...a].sort((x, y) => x - y)[1];
      console.log(JSON.stringify({ grew: median3(readings.slice(-3)) - median3(readings.slice(0, 3)) }));`,
    );
    expect(r.grew).toBeLessThan(32);
  });

  test('300 dropped layers (4 MiB of weights each, used once) are freed', () => {
    const r = child(
      backend,
      `
      const x = new Tensor(new Float32Array(4 * 2 * 256).fill(0.1), [4, 2, 256]);
      const use = () => {
        const layer = new GRU({ inputSize: 256, hiddenSize: 256, bidirectional: true, seed: 1 });
        layer.forward(x);
      };
      for (let i = 0; i < 100; i++) use();
      await turn();
      const before = rss();
      for (let i = 0; i < 300; i++) { use(); if (i % 50 === 0) { global.gc(); await turn(); } }
      await turn();
      console.log(JSON.stringify({ grew: rss() - before }));`,
    );
    // Kept, they would hold over 1 GiB.
    expect(r.grew).toBeLessThan(256);
  });
});
