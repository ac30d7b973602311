// The README's example, as `npm start` runs it.
import { spawnSync } from 'child_process';
import * as path from 'path';

test('examples/quickstart.mjs runs forward and backward and prints the shapes', () => {
  const r = spawnSync(process.execPath, [path.join('examples', 'quickstart.mjs')], {
    cwd: path.resolve(__dirname, '..'),
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^output +\[5, 3, 16\]$/m);
  expect(r.stdout).toMatch(/^cN +\[2, 3, 16\]$/m);
  expect(r.stdout).toMatch(/^dInput +\[5, 3, 8\]$/m);
  expect(r.stdout).toMatch(/^grad weight_hh_l1 +\[64, 16\]$/m);
});
