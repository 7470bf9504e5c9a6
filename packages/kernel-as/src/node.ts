// Node-only helpers (never imported by the browser path).
import { setFlagsFromString } from 'node:v8';
import { detectFeatures } from './loader.js';

/**
 * Turns on relaxed SIMD in Node 20, where it sits behind
 * --experimental-wasm-relaxed-simd. Must run before any module is compiled.
 * Returns whether the engine now validates relaxed SIMD.
 */
export function enableRelaxedSimd(): boolean {
  if (detectFeatures().relaxedSimd) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return detectFeatures().relaxedSimd;
}
