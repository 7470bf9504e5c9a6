import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const shim = (name: string) => fileURLToPath(new URL(`./src/shims/${name}.ts`, import.meta.url));

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
  // @meshtastic/core's npm build imports Node built-ins for its logger: give the browser small stand-ins.
  resolve: { alias: { os: shim('os'), path: shim('path'), util: shim('util') } },
});
