// Compiles assembly/index.ts into the three standalone builds. Each is import-free:
// the stub runtime never frees (the kernels manage memory through the arena), and
// abort is routed to a function that traps.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

// Node 20 validates relaxed SIMD only behind a flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');

const common = [
  'assembly/index.ts',
  '-O3', '--noAssert', '--converge',
  '--runtime', 'stub',
  '--use', 'abort=assembly/abi/trapAbort',
  '--initialMemory', '1',
  '--maximumMemory', '65536',
];

// Feature sets: scalar is MVP + sign-extension + mutable globals, for WAMR
// interpreters and microcontrollers; simd adds SIMD128 (and the non-trapping
// float conversions every SIMD engine has); relaxed adds relaxed SIMD.
export const BUILDS = {
  scalar: ['--disable', 'bulk-memory', '--disable', 'nontrapping-f2i'],
  simd: ['--enable', 'simd', '--disable', 'bulk-memory'],
  relaxed: ['--enable', 'simd', '--enable', 'relaxed-simd', '--disable', 'bulk-memory'],
};

mkdirSync(join(root, 'build'), { recursive: true });
const manifest = {};
for (const [name, flags] of Object.entries(BUILDS)) {
  const out = join('build', `kernel-${name}.wasm`);
  const res = spawnSync(process.execPath, [asc, ...common, ...flags, '-o', out], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) {
    process.stderr.write(res.stdout + res.stderr);
    process.exit(res.status ?? 1);
  }
  const bytes = readFileSync(join(root, out));
  const module = new WebAssembly.Module(bytes, undefined);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    console.error(`${out}: expected no imports, found ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
    process.exit(1);
  }
  manifest[name] = { file: `kernel-${name}.wasm`, bytes: bytes.length, flags: [...common.slice(1), ...flags] };
}
writeFileSync(join(root, 'build', 'builds.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(Object.entries(manifest).map(([n, m]) => `${n}: ${m.bytes} B`).join(', '));
