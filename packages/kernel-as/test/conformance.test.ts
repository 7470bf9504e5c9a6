import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ref from '../src/reference/index.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const cli = join(pkg, 'dist/conformance/cli.js');
/** The shared operator cases with ONNX Runtime's outputs (beside the repository). */
const sharedCases = process.env.KERNEL_CONFORMANCE_DIR ?? resolve(pkg, '../../../shared/conformance/kernel');

function run(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, dir, ...args], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, stdout: r.stdout, last: lines[lines.length - 1] ?? '' };
}

describe('conformance runner', () => {
  it('answers --help with its usage and options, one line each, and exit code 0', () => {
    const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: conformance <dir> \[--build scalar\|simd\|relaxed\|all\]\n/);
    expect(r.stdout).toMatch(/\n {2}--build B +scalar, simd, relaxed or all/);
    expect(r.stdout).toMatch(/\n {2}--help, -h +this text/);
    const bad = spawnSync(process.execPath, [cli, '--bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: unknown option --bogus (see --help)\n');
  });

  it('passes the shared ONNX Runtime cases on every build', () => {
    const r = run(sharedCases, '--build', 'all');
    expect(r.stdout).not.toMatch(/FAIL/);
    expect(r.last).toMatch(/^\d+ passed, 0 failed$/);
    expect(Number(r.last.split(' ')[0])).toBeGreaterThanOrEqual(3 * 80);
    expect(r.status).toBe(0);
  });

  it('accepts other cases in the same format and reports failures with a non-zero exit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
    const write = (name: string, c: unknown) => writeFileSync(join(dir, name), JSON.stringify(c));
    // Batched MatMulInteger (3-D x 2-D) with a per-column zero point.
    const a = Array.from({ length: 2 * 3 * 5 }, (_, i) => (i * 29) % 256);
    const b = Array.from({ length: 5 * 4 }, (_, i) => ((i * 41) % 256) - 128);
    const y = [...ref.matmulInteger(a.slice(0, 15), b, 3, 5, 4, [7], [1, -2, 3, -4]), ...ref.matmulInteger(a.slice(15), b, 3, 5, 4, [7], [1, -2, 3, -4])];
    write('MatMulInteger-batched.json', {
      op: 'MatMulInteger', attrs: {},
      inputs: [{ name: 'A', type: 'uint8', dims: [2, 3, 5], data: a }, { name: 'B', type: 'int8', dims: [5, 4], data: b },
        { name: 'a_zero_point', type: 'uint8', dims: [], data: [7] }, { name: 'b_zero_point', type: 'int8', dims: [4], data: [1, -2, 3, -4] }],
      outputs: [{ name: 'Y', type: 'int32', dims: [2, 3, 4], data: Array.from(y) }], tolerance: 0,
    });
    // QuantizeLinear along axis 0 of a 3-D tensor.
    const x = Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.fround((i - 11) * 0.37));
    write('QuantizeLinear-axis0.json', {
      op: 'QuantizeLinear', attrs: { axis: 0 },
      inputs: [{ name: 'x', type: 'float32', dims: [2, 3, 4], data: x }, { name: 'y_scale', type: 'float32', dims: [2], data: [0.1, 0.25] },
        { name: 'y_zero_point', type: 'int8', dims: [2], data: [3, -4] }],
      outputs: [{ name: 'y', type: 'int8', dims: [2, 3, 4], data: ref.quantizeLinear(x, [0.1, 0.25], [3, -4], 'int8', { axisLen: 2, inner: 12, mode: 'axis' }) }],
      tolerance: 0,
    });
    // DequantizeLinear of int32 (no zero point), with an omitted optional input.
    write('DequantizeLinear-int32.json', {
      op: 'DequantizeLinear', inputs: [{ type: 'int32', dims: [3], data: [-100000, 0, 123456] }, { type: 'float32', dims: [], data: [0.001] }, null],
      outputs: [{ type: 'float32', dims: [3], data: Array.from(ref.dequantizeLinear([-100000, 0, 123456], [0.001], undefined, { axisLen: 3, inner: 1, mode: 'tensor' })) }],
      tolerance: 1e-6,
    });
    // A case whose expected output is wrong, one with an unknown operator, and one that is not JSON.
    write('Wrong-expected.json', {
      op: 'DequantizeLinear', inputs: [{ type: 'uint8', dims: [1], data: [5] }, { type: 'float32', dims: [], data: [2] }],
      outputs: [{ type: 'float32', dims: [1], data: [11] }], tolerance: 1e-6,
    });
    write('Unknown-op.json', { op: 'Conv', inputs: [], outputs: [{ type: 'float32', dims: [], data: [0] }] });
    writeFileSync(join(dir, 'Broken.json'), '{ "op": ');

    const good = run(dir, '--build', 'simd');
    expect(good.stdout).toMatch(/FAIL \[simd\] Wrong-expected\.json: output 0 element 0: got 10, expected 11/);
    expect(good.stdout).toMatch(/FAIL \[simd\] Unknown-op\.json: error: operator 'Conv' is not supported/);
    expect(good.stdout).toMatch(/FAIL \[simd\] Broken\.json: malformed case/);
    expect(good.stdout).not.toMatch(/FAIL.*(batched|axis0|int32)/);
    expect(good.last).toBe('3 passed, 3 failed');
    expect(good.status).not.toBe(0);

    const all = run(dir);
    expect(all.last).toBe('9 passed, 9 failed');
  });

  it('also runs the cases in subdirectories, named by their relative path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-tree-'));
    mkdirSync(join(dir, 'ops', 'dequant'), { recursive: true });
    writeFileSync(join(dir, 'README.md'), 'not a case');
    const dq = (x: number, expected: number) => JSON.stringify({
      op: 'DequantizeLinear', inputs: [{ type: 'uint8', dims: [1], data: [x] }, { type: 'float32', dims: [], data: [2] }],
      outputs: [{ type: 'float32', dims: [1], data: [expected] }], tolerance: 1e-6,
    });
    writeFileSync(join(dir, 'top.json'), dq(3, 6));
    writeFileSync(join(dir, 'ops', 'dequant', 'good.json'), dq(5, 10));
    writeFileSync(join(dir, 'ops', 'dequant', 'bad.json'), dq(5, 12));
    const r = run(dir, '--build', 'scalar');
    expect(r.stdout).toMatch(/FAIL \[scalar\] ops\/dequant\/bad\.json: output 0 element 0: got 10, expected 12/);
    expect(r.last).toBe('2 passed, 1 failed');
  });

  it('rejects bad command lines', () => {
    expect(run(sharedCases, '--build', 'gpu').status).toBe(2);
    expect(run('/no/such/dir').status).toBe(2);
  });
});
