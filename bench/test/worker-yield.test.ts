// The shared test setup (vitest.setup.ts at the repository's root) yields one macrotask after every
// test, so that a test worker reads its runner's replies between long synchronous tests. Without it,
// tests chained through promises run back to back and a macrotask queued by one test is still
// waiting when the next test starts.
import { describe, expect, it } from 'vitest';

describe('the test worker between tests', () => {
  let macrotaskRan = false;

  it('queues a macrotask and returns at once', () => {
    setImmediate(() => {
      macrotaskRan = true;
    });
    expect(macrotaskRan).toBe(false);
  });

  it('finds that macrotask run before it starts', () => {
    expect(macrotaskRan).toBe(true);
  });
});
