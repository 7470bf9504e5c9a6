import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_NAME, parseLock } from '../src/index.js';
import { Child } from './child.js';
import { openState, tempDir } from './helpers.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('the state directory lock', () => {
  it('refuses a second owner in the same process, and is released by close()', () => {
    const dir = tempDir();
    const a = openState(dir);
    expect(() => openState(dir)).toThrow(expect.objectContaining({ name: 'StateError', code: 'LOCKED', message: expect.stringContaining(`process ${process.pid}`) }));
    a.close();
    openState(dir).close();
  });

  it('refuses while another live process holds it, and takes it over once that process is killed', async () => {
    const dir = tempDir();
    const holder = new Child('hold', dir);
    try {
      await holder.until((l) => l.includes('held'));
      expect(parseLock(readFileSync(join(dir, LOCK_NAME), 'utf8'))?.pid).toBe(holder.proc.pid);
      expect(() => openState(dir)).toThrow(expect.objectContaining({ code: 'LOCKED', message: expect.stringContaining(`process ${holder.proc.pid}`) }));
      const key = holder.lines.find((l) => l.startsWith('key '))!.slice(4);
      await holder.kill();
      const s = openState(dir);
      expect(Buffer.from(s.identity.publicKey).toString('hex')).toBe(key);
      expect(parseLock(readFileSync(join(dir, LOCK_NAME), 'utf8'))?.pid).toBe(process.pid);
      s.close();
    } finally {
      await holder.kill();
    }
  });

  it('takes over a stale lock left by a dead pid, or one whose content is unreadable', () => {
    for (const content of [JSON.stringify({ pid: deadPid(), host: hostname() }), 'garbage', '']) {
      const dir = tempDir();
      writeFileSync(join(dir, LOCK_NAME), content);
      const s = openState(dir);
      expect(parseLock(readFileSync(join(dir, LOCK_NAME), 'utf8'))?.pid).toBe(process.pid);
      s.close();
    }
  });

  it('refuses a lock held from another host, whose pid cannot be checked', () => {
    const dir = tempDir();
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: deadPid(), host: 'some-other-host' }));
    expect(() => openState(dir)).toThrow(expect.objectContaining({ code: 'LOCKED', message: expect.stringContaining('some-other-host') }));
  });
});
