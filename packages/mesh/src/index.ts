// @compotastic/mesh main entry: browser-safe (no Node built-ins). Node-only pieces are in '@compotastic/mesh/node'.
export { MeshError } from './errors.js';
export * from './presets.js';
export * from './airtime.js';
export * from './contention.js';
export * from './regions.js';
export * from './ports.js';
export * from './limits.js';
export * from './framing.js';
export * from './bytes.js';
export * from './crc32.js';
export * from './prng.js';
export * from './clock.js';
export * from './device-output.js';
export * from './node-id.js';
