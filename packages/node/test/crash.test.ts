import { Prng } from '@compotastic/mesh';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOBS_DIR } from '../src/index.js';
import { Child } from './child.js';
import { openState, tempDir } from './helpers.js';
// @ts-expect-error: plain JavaScript shared with the child process.
import { record } from './fixtures/record.mjs';

const KILLS = 8;

function numbers(lines: string[], tag: string): number[] {
  return lines.filter((l) => l.startsWith(`${tag} `)).map((l) => Number(l.slice(tag.length + 1)));
}

describe('a writer killed with SIGKILL', () => {
  it(`leaves the old or the new value, never a torn one, and never repeats a job id (${KILLS} kills)`, async () => {
    const dir = tempDir();
    const jitter = new Prng(7);
    const ids: number[] = [];
    let key: string | null = null;
    let lastSaved = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = new Child('write', dir);
      // Kill after a seeded number of completed saves plus a seeded delay: the kill lands somewhere in a later write.
      const after = lastSaved + 1 + jitter.intBelow(4);
      await child.until((l) => numbers(l, 'saved').some((n) => n >= after));
      await new Promise((resolve) => setTimeout(resolve, jitter.intBelow(3)));
      await child.kill();
      expect(child.lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
      const thisKey = child.lines.find((l) => l.startsWith('key '))!;
      key ??= thisKey;
      expect(thisKey).toBe(key);
      ids.push(...numbers(child.lines, 'id'));
      const saved = numbers(child.lines, 'saved');
      const printed = saved[saved.length - 1]!;
      // The child saves i+1 after printing "saved i": the file holds the last printed value or the one after it.
      const s = openState(dir);
      expect(s.warnings).toEqual([]);
      const jobs = s.jobs.loadJobs();
      expect(jobs.map((j) => j.id)).toEqual([1]);
      const value = new DataView(jobs[0]!.record.buffer).getUint32(0, true);
      expect([printed, printed + 1]).toContain(value);
      expect(jobs[0]!.record).toEqual(record(value));
      // A job id reserved but never printed is still used up: the next one is above all of them.
      const next = s.jobs.reserveJobIds(1);
      expect(next).toBeGreaterThan(Math.max(...ids));
      ids.push(next);
      s.close();
      lastSaved = value;
    }
    expect(new Set(ids).size).toBe(ids.length);
    // The opens removed every temp file the kills left behind.
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(join(dir, JOBS_DIR)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
