import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared.js';

export default defineConfig(
  packageConfig({
    // The kernel patch decoder is tested in every build; Node 20 runs the relaxed-SIMD one only behind this flag.
    test: { poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } } },
  }),
);
