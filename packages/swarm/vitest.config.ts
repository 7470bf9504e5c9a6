import { defineConfig } from 'vitest/config';
import { packageConfig } from '../../vitest.shared.js';

export default defineConfig(packageConfig());
