#!/usr/bin/env node
// A quick self-check: loads the best build this host runs, multiplies a small
// int8 matrix, quantizes a vector, and compares with the plain-TS reference.

import { loadKernel, supportedBuilds } from './loader.js';
import { enableRelaxedSimd } from './node.js';
import * as ref from './reference/index.js';

enableRelaxedSimd();
const kernel = await loadKernel({ build: 'auto' });
console.log(`kernel: ${kernel.build} build chosen (host runs: ${supportedBuilds().join(', ')}), ABI ${kernel.abiVersion}`);

// A deterministic 3 x 40 (uint8) times 40 x 5 (int8) product.
const m = 3, k = 40, n = 5;
const a = Uint8Array.from({ length: m * k }, (_, i) => (i * 37 + 11) % 256);
const b = Int8Array.from({ length: k * n }, (_, i) => ((i * 53 + 7) % 256) - 128);
const packed = kernel.packWeights(b, k, n, 3);
const y = kernel.matmulInteger(a, m, packed, 128);
const want = ref.matmulInteger(a, b, m, k, n, [128], [3]);
const gemmOk = y.every((v, i) => v === want[i]);
console.log(`MatMulInteger ${m}x${k}x${n}: row 0 = [${Array.from(y.subarray(0, n)).join(', ')}] ${gemmOk ? 'matches' : 'DIFFERS FROM'} the reference`);

const x = Float32Array.from({ length: 8 }, (_, i) => (i - 3.5) * 0.75);
const q = kernel.quantizeLinear(x, { scale: 0.25, zeroPoint: 0, type: 'int8' });
const qWant = ref.quantizeLinear(x, [0.25], [0], 'int8', { axisLen: x.length, inner: 1, mode: 'tensor' });
const quantOk = q.every((v, i) => v === qWant[i]);
console.log(`QuantizeLinear: [${Array.from(x).join(', ')}] -> [${Array.from(q).join(', ')}] ${quantOk ? 'matches' : 'DIFFERS FROM'} the reference`);

if (!gemmOk || !quantOk) {
  console.error('self-check FAILED');
  process.exit(1);
}
console.log('self-check passed');
