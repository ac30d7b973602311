// The backends a suite runs on: every one that loads here. Which ones must load is the business
// of test/backends.test.ts (CELLSCAN_REQUIRE_BACKENDS), so a missing backend fails there loudly.
import { backends, useBackend } from '../../src/backend/select';
import type { BackendName } from '../../src/backend/types';

export function loadedBackends(): BackendName[] {
  return backends()
    .filter((b) => b.available)
    .map((b) => b.name);
}

/** describe.each rows; fails the suite (rather than running nothing) when no backend loads. */
export function backendRows(): BackendName[] {
  const names = loadedBackends();
  if (names.length === 0) {
    throw new Error(`no backend loads here: ${JSON.stringify(backends())}`);
  }
  return names;
}

export function selectBackend(name: BackendName): void {
  useBackend(name);
}
