import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('C host (wasm2c + gcc)', () => {
  it('builds the scalar kernel into a C program that passes its fixed cases', () => {
    const script = fileURLToPath(new URL('../hosts/c/build.sh', import.meta.url));
    const r = spawnSync('sh', [script], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toMatch(/PASS: 0 failure\(s\)/);
    expect(r.stdout).not.toMatch(/^FAIL/m);
    expect(r.stdout.match(/^ok /gm)?.length).toBeGreaterThanOrEqual(14);
    expect(r.status).toBe(0);
  }, 120_000);
});
