// The backends' boundaries under generated hostile calls (test/fuzz/boundaries.fuzz.ts), run in a
// child jest: a crash there (a segfault in the addon) ends that process, not this one, and is
// reported here with the seed that reproduces it. Under npm run test:asan the child inherits the
// sanitizer runtime and the instrumented addon.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { fuzzSeed } from './helpers/fuzz';

const root = path.resolve(__dirname, '..');

test('native addon and wasm backend boundaries refuse generated hostile calls, and nothing crashes', () => {
  const r = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--json', '--testMatch', '<rootDir>/test/fuzz/*.fuzz.ts', '--testPathIgnorePatterns', '/node_modules/'],
    { cwd: root, env: { ...process.env, CELLSCAN_FUZZ_SEED: String(fuzzSeed) }, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
  const context = `child jest (${how}, CELLSCAN_FUZZ_SEED=${fuzzSeed}):\n${r.stderr.slice(-6000)}`;
  const start = r.stdout.indexOf('{');
  if (start < 0) throw new Error(`no report from the ${context}`);
  const summary = JSON.parse(r.stdout.slice(start));
  const failures = summary.testResults.flatMap((s: { message: string; assertionResults: { status: string; fullName: string; failureMessages: string[] }[] }) => [
    ...(s.message ? [s.message] : []),
    ...s.assertionResults.filter((a) => a.status === 'failed').map((a) => `${a.fullName}: ${a.failureMessages.join('\n')}`),
  ]);
  if (failures.length || r.status !== 0) throw new Error(`${failures.join('\n\n')}\n\n${context}`);
  expect(summary.numPassedTests).toBeGreaterThanOrEqual(8);
});
