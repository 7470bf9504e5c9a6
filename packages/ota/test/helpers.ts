import { loadKernel, type Kernel } from '@compotastic/kernel';
import { Prng, type Clock, type TimerHandle } from '@compotastic/mesh';
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import type { Release } from '../src/bundle.js';
import { TrustStore, generateSigningKey } from '../src/signing.js';

/**
 * `pnpm fuzz` sets OTA_FUZZ=1: the seeded fuzz and fault-injection tests then run their thorough volume (every power
 * cut of a full-size update, thousands of damaged inputs). `pnpm test` runs the same checks on a fixed, modest volume.
 */
export const FUZZ = process.env['OTA_FUZZ'] === '1';
export function volume<T>(test: T, fuzz: T): T {
  return FUZZ ? fuzz : test;
}

/**
 * Byte-array equality. vitest's toEqual walks a typed array element by element (about 4 µs a byte), which made
 * comparing images the bulk of this suite's time; on a mismatch this reports the lengths and the first 32 bytes
 * from where the arrays part.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  if (Buffer.compare(actual, expected) === 0) return;
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let at = 0;
  while (actual[at] === expected[at]) at++;
  expect(Array.from(actual.subarray(at, at + 32)), `${what} from offset ${at}`).toEqual(Array.from(expected.subarray(at, at + 32)));
}

let kernelPromise: Promise<Kernel> | null = null;
/** One scalar kernel for the whole test file (the build every device runs). */
export function kernel(): Promise<Kernel> {
  kernelPromise ??= loadKernel({ build: 'scalar' });
  return kernelPromise;
}

/**
 * A synthetic machine-code-like image: instruction-ish byte patterns with 32-bit little-endian call targets and a
 * pointer table. Good enough to exercise the diff (relocations, insertions) without shipping binaries.
 */
export interface SyntheticImage {
  bytes: Uint8Array;
}

const OPCODES = [
  [0x48, 0x89, 0xc3], [0x48, 0x8b, 0x44, 0x24, 0x08], [0x0f, 0x1f, 0x44, 0x00, 0x00], [0x90], [0xc3], [0x55], [0x5d],
  [0x48, 0x83, 0xec, 0x28], [0x31, 0xc0], [0x74, 0x10], [0x75, 0x0c],
];

/** Functions of random instructions; calls are E8 + rel32 to other function starts. */
export function makeProgram(rng: Prng, functions: number): { funcs: Uint8Array[][] } {
  const funcs: Uint8Array[][] = [];
  for (let f = 0; f < functions; f++) {
    const body: Uint8Array[] = [];
    const n = rng.int(8, 40);
    for (let i = 0; i < n; i++) {
      if (rng.bool(0.2)) body.push(Uint8Array.of(0xe8, 0xff, 0xff, 0xff, rng.int(0, functions) & 0xff)); // placeholder call
      else body.push(Uint8Array.from(rng.pick(OPCODES)));
    }
    funcs.push(body);
  }
  return { funcs };
}

/** Lays functions out and resolves every call to its target's address (the low byte of the placeholder picks it). */
export function link(funcs: Uint8Array[][]): Uint8Array {
  const starts: number[] = [];
  let at = 0;
  for (const f of funcs) {
    starts.push(at);
    for (const ins of f) at += ins.length;
  }
  const out = new Uint8Array(at + funcs.length * 8);
  at = 0;
  for (const f of funcs) {
    for (const ins of f) {
      out.set(ins, at);
      if (ins[0] === 0xe8 && ins.length === 5) {
        const target = starts[ins[4]! % funcs.length]!;
        const rel = (target - (at + 5)) | 0;
        new DataView(out.buffer).setInt32(at + 1, rel, true);
      }
      at += ins.length;
    }
  }
  // A pointer table at the end: absolute addresses of every function.
  funcs.forEach((_, i) => new DataView(out.buffer).setUint32(at + i * 8, 0x400000 + starts[i]!, true));
  return out;
}

/** A consecutive release: a few functions changed, some inserted, all calls relinked. */
export function nextRelease(rng: Prng, funcs: Uint8Array[][], changes: number): Uint8Array[][] {
  const next = funcs.map((f) => f.slice());
  for (let c = 0; c < changes; c++) {
    const i = rng.intBelow(next.length);
    const body = next[i]!;
    body.splice(rng.intBelow(body.length + 1), 0, Uint8Array.from(rng.pick(OPCODES)));
  }
  return next;
}

export function pair(seed: number, functions = 400, changes = 12): { old: Uint8Array; next: Uint8Array } {
  const rng = new Prng(seed);
  const { funcs } = makeProgram(rng, functions);
  return { old: link(funcs), next: link(nextRelease(rng, funcs, changes)) };
}

/** int8 weights and a fine-tuned version: most values move by -2..2. */
export function weightsPair(seed: number, n: number): { old: Uint8Array; next: Uint8Array } {
  const rng = new Prng(seed);
  const old = new Uint8Array(n);
  for (let i = 0; i < n; i++) old[i] = Math.round(rng.gaussian(0, 30)) & 0xff;
  const next = old.map((v) => (rng.bool(0.7) ? (v + rng.int(-2, 3)) & 0xff : v));
  return { old, next };
}

/** A deterministic clock for tests: timers run in time order when advanced. */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const h = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(h);
    return h;
  }

  clearTimer(handle: TimerHandle): void {
    (handle as { live: boolean }).live = false;
  }

  /**
   * As `run`, letting promise work settle after every timer (for links that answer with promises, as a radio's does).
   * Stops early once `until` holds.
   */
  async runSettling(limitMs: number, until: () => boolean = () => false): Promise<void> {
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
    await settle();
    while (!until()) {
      this.timers = this.timers.filter((x) => x.live);
      if (this.timers.length === 0) return;
      const next = Math.min(...this.timers.map((x) => x.at));
      if (next > limitMs) return;
      this.run(next);
      await settle();
    }
  }

  /** Runs timers until none is left or `limitMs` is reached. */
  run(limitMs = Infinity): void {
    for (;;) {
      this.timers = this.timers.filter((x) => x.live);
      if (this.timers.length === 0) return;
      let best = this.timers[0]!;
      for (const x of this.timers) if (x.at < best.at || (x.at === best.at && x.seq < best.seq)) best = x;
      if (best.at > limitMs) return;
      this.t = best.at;
      best.live = false;
      best.fn();
    }
  }
}

/** Loss model hub: a broadcast medium where each delivery is lost independently with probability p. */
export class LossyHub {
  readonly endpoints = new Map<number, (from: number, payload: Uint8Array) => void>();
  readonly log: string[] = [];
  sent = 0;
  /** Probability that a delivery is repeated later (1..60 s), which also reorders it. */
  duplicate = 0;
  duplicated = 0;

  constructor(
    readonly clock: VirtualClock,
    readonly rng: Prng,
    public loss: number,
    readonly latencyMs = 50,
    /** Optional tamper hook: return a replacement payload, or null to drop. */
    public tamper: ((payload: Uint8Array, to: number) => Uint8Array | null) | null = null,
  ) {}

  link(node: number): { send(payload: Uint8Array, to?: number): void } {
    return {
      send: (payload, to) => {
        if (payload.length > 231) throw new Error(`payload of ${payload.length} bytes exceeds 231`);
        this.sent++;
        this.log.push(`${this.clock.now()}:${node}->${to ?? '*'}:${payload.length}`);
        for (const [id, fn] of this.endpoints) {
          if (id === node || (to !== undefined && to !== id)) continue;
          if (this.rng.bool(this.loss)) continue;
          let p: Uint8Array | null = payload.slice();
          if (this.tamper) p = this.tamper(p, id);
          if (!p) continue;
          const delivered = p;
          this.clock.setTimer(this.latencyMs, () => fn(node, delivered));
          if (this.duplicate > 0 && this.rng.bool(this.duplicate)) {
            this.duplicated++;
            this.clock.setTimer(this.rng.int(1000, 60000), () => fn(node, delivered));
          }
        }
      },
    };
  }
}

/**
 * Two consecutive releases of a small model: a code part, int8 weights, a config. `size: 'tiny'` keeps every part
 * several flash pages long and the image several sectors, for tests that repeat a whole update many times.
 */
export function releases(size: 'full' | 'tiny' = 'full'): { v1: Release; v2: Release } {
  const bin = size === 'full' ? pair(11, 300, 6) : pair(11, 40, 3);
  const w = weightsPair(12, size === 'full' ? 20000 : 3000);
  const config = new TextEncoder().encode(JSON.stringify({ layers: 4, threshold: 0.5 }));
  const base = { modelId: 'kws-tiny', deviceClass: 'esp32-s3', requiredFeatures: 0 };
  return {
    v1: { ...base, version: 1, securityCounter: 1, parts: [{ name: 'kernel.wasm', kind: 'wasm', data: bin.old }, { name: 'weights', kind: 'weights', data: w.old }, { name: 'config', kind: 'config', data: config }] },
    v2: { ...base, version: 2, securityCounter: 1, parts: [{ name: 'kernel.wasm', kind: 'wasm', data: bin.next }, { name: 'weights', kind: 'weights', data: w.next }, { name: 'config', kind: 'config', data: config }] },
  };
}

/** The publisher key of the transfer tests, and the trust store of their receivers. */
export const PUBLISHER_KEY = generateSigningKey(new Uint8Array(32).fill(0x5a));
export const PUBLISHER_TRUST = new TrustStore([PUBLISHER_KEY.publicKey]);
