import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared.js';

export default defineConfig(
  packageConfig({
    // Node 20 runs the relaxed-SIMD build only behind this flag.
    test: { poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } } },
  }),
);
