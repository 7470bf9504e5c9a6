import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared.js';

export default defineConfig(
  packageConfig({
    // Node 20 runs the kernel's relaxed-SIMD build only behind this flag; the int8 tests run every build.
    test: { poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } } },
  }),
);
