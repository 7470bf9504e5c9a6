// A node on a real radio installs the orchestrator without the simulator: simulated swarms live in @compotastic/swarm,
// and the simulator is only a devDependency here (for the tests over virtual radios).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.[cm]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('runtime dependencies', () => {
  it('no source file imports @compotastic/sim', () => {
    const files = sources(join(root, 'src'));
    expect(files.length).toBeGreaterThan(10);
    // Static imports, re-exports and dynamic import() alike.
    const importsSim = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]@compotastic\/sim(?:\/[^'"]*)?['"]/;
    expect(files.filter((f) => importsSim.test(readFileSync(f, 'utf8'))).map((f) => f.slice(root.length))).toEqual([]);
  });

  it('package.json has the simulator at most as a devDependency and exports no ./sim entry', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) expect(Object.keys(pkg[field] ?? {})).not.toContain('@compotastic/sim');
    expect(Object.keys(pkg.exports ?? {})).not.toContain('./sim');
  });
});
