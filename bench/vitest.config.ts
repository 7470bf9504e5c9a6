import { defineConfig } from 'vitest/config';
import { packageConfig } from '../vitest.shared.js';

export default defineConfig(
  packageConfig({
    // Node 20 runs the kernel's relaxed-SIMD build only behind this flag (tests that load it in the test process).
    test: { poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } } },
  }),
);
