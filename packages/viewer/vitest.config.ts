import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared.js';

// The browser test may first run `vite build` and then start chromium, both in one hook.
export default defineConfig(packageConfig({ test: { hookTimeout: 180_000 } }));
