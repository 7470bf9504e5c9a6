// Settings every package's vitest config starts from.
//
// Tests are sized to do a fixed, modest amount of work (about a second or less on an idle machine);
// heavy fuzz volumes and long simulations live in each package's `fuzz`/`measure` scripts and in
// `pnpm bench`. The timeouts below are therefore hang detectors, not speed limits: they are set far
// above any test's idle time so that a machine whose cores are busy with other work still passes.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type UserConfig } from 'vitest/config';

// The root `pnpm test` runs one package at a time (turbo --concurrency=1), so each package may use
// every core; a package's files then run in parallel forks, one per core.
const workers = Math.max(1, availableParallelism());

const shared = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: workers } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});

/** The shared settings, overridden by a package's own (e.g. extra execArgv for the forks). */
export function packageConfig(own: UserConfig = {}): UserConfig {
  return mergeConfig(shared, own);
}
