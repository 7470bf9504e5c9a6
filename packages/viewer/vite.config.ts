import { defineConfig } from 'vite';

// A static build: `dist/` can be served by any static host (relative asset paths).
export default defineConfig({
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
});
