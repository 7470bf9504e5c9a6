// Runs in every test worker before its test files.
//
// A worker reports to its runner over an RPC whose calls time out after 60 s, and it only reads the
// replies when its event loop reaches the poll phase. Tests chained through promises never get there,
// so a file of long synchronous tests on a busy machine can block the worker past 60 s and fail the
// run with 'Timeout calling "onTaskUpdate"' although every test passed. Yielding one macrotask after
// each test lets the worker read its replies between tests. The real setImmediate is taken here,
// before any test installs fake timers.
import { afterEach } from 'vitest';

const realSetImmediate = globalThis.setImmediate;

afterEach(() => new Promise<void>((resolve) => realSetImmediate(resolve)));
