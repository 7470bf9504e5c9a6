import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ABI_VERSION, FEATURE_BULK_MEMORY, FEATURE_NONTRAPPING_F2I, FEATURE_RELAXED_SIMD, FEATURE_SIMD128, detectFeatures,
  loadBuildBytes, loadKernel, supportedBuilds,
} from '../src/index.js';
import { BUILDS, kernel } from './helpers.js';

const buildDir = fileURLToPath(new URL('../build/', import.meta.url));

function opcodes(build: string): string {
  return execFileSync('wasm-objdump', ['-d', `${buildDir}kernel-${build}.wasm`], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

describe('the three builds', () => {
  it('report the ABI version and the features they were built with', async () => {
    const expected: Record<string, number> = {
      scalar: 0,
      simd: FEATURE_SIMD128 | FEATURE_NONTRAPPING_F2I,
      relaxed: FEATURE_SIMD128 | FEATURE_RELAXED_SIMD | FEATURE_NONTRAPPING_F2I,
    };
    for (const build of BUILDS) {
      const k = await kernel(build);
      expect(k.abiVersion).toBe(ABI_VERSION);
      expect(k.features, build).toBe(expected[build]);
      expect(k.features & FEATURE_BULK_MEMORY).toBe(0);
    }
  });

  it('are standalone: no imports, memory exported, small initial memory', () => {
    for (const build of BUILDS) {
      const module = new WebAssembly.Module(readFileSync(`${buildDir}kernel-${build}.wasm`));
      expect(WebAssembly.Module.imports(module)).toEqual([]);
      const exports = WebAssembly.Module.exports(module);
      expect(exports).toContainEqual({ name: 'memory', kind: 'memory' });
      const instance = new WebAssembly.Instance(module, {});
      expect((instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(65536);
    }
  });

  it('the scalar build has no SIMD, bulk-memory or non-trapping conversion instructions', () => {
    const code = opcodes('scalar');
    expect(code).toMatch(/i32\.load/); // the disassembly really lists instructions
    expect(code).not.toMatch(/v128|i8x16|i16x8|i32x4|f32x4|memory\.(fill|copy)|trunc_sat/);
    expect(opcodes('simd')).toMatch(/i32x4\.dot_i16x8_s/);
    expect(opcodes('simd')).not.toMatch(/relaxed|dot_i8x16_i7x16/);
    expect(opcodes('relaxed')).toMatch(/dot_i8x16_i7x16_s/);
    for (const build of BUILDS) expect(opcodes(build)).not.toMatch(/memory\.(fill|copy)/);
  });

  it('auto picks the fastest build the engine validates', async () => {
    const features = detectFeatures();
    expect(features.simd).toBe(true);
    expect(features.relaxedSimd).toBe(true); // the test runner enables relaxed SIMD
    expect(supportedBuilds()).toEqual(['relaxed', 'simd', 'scalar']);
    expect(supportedBuilds({ simd: true, relaxedSimd: false })).toEqual(['simd', 'scalar']);
    expect(supportedBuilds({ simd: false, relaxedSimd: false })).toEqual(['scalar']);
    expect((await loadKernel()).build).toBe('relaxed');
    expect((await loadKernel({ wasm: readFileSync(`${buildDir}kernel-simd.wasm`), build: 'simd' })).build).toBe('simd');
    // The bytes of a build, for shipping it to another device.
    expect(Buffer.from(await loadBuildBytes('scalar')).equals(readFileSync(`${buildDir}kernel-scalar.wasm`))).toBe(true);
    await expect(loadBuildBytes('gpu' as never)).rejects.toThrow(/unknown build/);
  });

  it('keeps Node-only APIs off the browser path', () => {
    const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
    const browserFiles = readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !['node.ts', 'selfcheck.ts'].includes(f));
    expect(browserFiles).toContain('loader.ts');
    for (const f of [...browserFiles, 'reference/index.ts']) {
      expect(readFileSync(srcDir + f, 'utf8'), f).not.toMatch(/from ['"]node:|require\(|from ['"](fs|path|os|v8)['"]/);
    }
  });
});
