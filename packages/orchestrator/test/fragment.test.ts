import { Prng } from '@compotastic/mesh';
import { Scheduler } from '@compotastic/sim';
import { describe, expect, it } from 'vitest';
import { ReassemblyError } from '../src/errors.js';
import { encodeForLink, fragmentBytes, maxFragmentedBytes, Reassembler } from '../src/wire/fragment.js';
import { type Message, type MessageOf, decodeMessage, encodeMessage } from '../src/wire/messages.js';

const big: Message = {
  type: 'ASSIGN',
  jobId: 77,
  shard: 3,
  attempt: 1,
  leaseS: 600,
  redundant: true,
  inputCrc: 0xdeadbeef,
  mission: { profile: 'environmental-monitoring', priority: 'bulk' },
  spec: { kind: 'model', modelId: 9, modelVersion: 2, layerStart: 0, layerEnd: 12, batch: 4, inputBytes: 4096, outputBytes: 40 },
};

function frags(msg: Message, id: number, mtu: number): MessageOf<'FRAGMENT'>[] {
  return encodeForLink(msg, id, mtu).map((b) => decodeMessage(b) as MessageOf<'FRAGMENT'>);
}

describe('fragmentation and reassembly', () => {
  it('sends a message that fits as a single payload and fragments one that does not', () => {
    expect(encodeForLink(big, 1, 231)).toHaveLength(1);
    const parts = encodeForLink(big, 1, 16);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(16);
  });

  it('reassembles in any order, with duplicates, and checks the CRC-32', () => {
    const sched = new Scheduler();
    const r = new Prng(4);
    const detail = 'a'.repeat(64);
    const msg: Message = { type: 'FAILURE', jobId: 1, shard: 2, attempt: 3, reason: 7, detail };
    for (let trial = 0; trial < 50; trial++) {
      const re = new Reassembler({ clock: sched.clock });
      const parts = frags(msg, trial, 20 + r.intBelow(40));
      const order = r.shuffle([...parts, ...parts.filter(() => r.bool(0.3))]);
      let out: Message | null = null;
      for (const f of order) {
        const got = re.push(5, f);
        if (got) {
          expect(out).toBeNull();
          out = got;
        }
      }
      expect(out).toEqual(msg);
      expect(re.pending).toBe(0);
    }
  });

  it('rejects corrupted chunks and contradictory fragments with typed errors, and keeps senders apart', () => {
    const sched = new Scheduler();
    const re = new Reassembler({ clock: sched.clock });
    const parts = frags(big, 9, 20);
    const last = parts[parts.length - 1] as MessageOf<'FRAGMENT'>;
    const corrupt = { ...last, chunk: last.chunk.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    for (const p of parts.slice(0, -1)) expect(re.push(1, p)).toBeNull();
    expect(() => re.push(1, corrupt)).toThrow(ReassemblyError);
    expect(re.stats.corrupt).toBe(1);
    // Same message id from another sender is a different message.
    for (const p of parts.slice(0, -1)) re.push(2, p);
    expect(() => re.push(2, { ...(parts[1] as MessageOf<'FRAGMENT'>), count: 99 })).toThrow(expect.objectContaining({ code: 'FRAGMENT_MISMATCH' }));
    // A first fragment that lies about the length fails the integrity check.
    const lying = parts.map((p, i) => (i === 0 ? { ...p, totalLength: (p.totalLength as number) + 1 } : p));
    const re2 = new Reassembler({ clock: sched.clock });
    expect(() => lying.forEach((p) => re2.push(3, p))).toThrow(expect.objectContaining({ code: 'INTEGRITY' }));
  });

  it('expires old partial messages and bounds memory by evicting the oldest', () => {
    const sched = new Scheduler();
    const re = new Reassembler({ clock: sched.clock, timeoutMs: 60_000, maxPerSender: 2, maxTotal: 3 });
    const a = frags(big, 1, 20);
    re.push(1, a[0] as MessageOf<'FRAGMENT'>);
    sched.runUntil(61_000);
    re.push(1, frags(big, 2, 20)[0] as MessageOf<'FRAGMENT'>);
    expect(re.stats.expired).toBe(1);
    re.push(1, frags(big, 3, 20)[0] as MessageOf<'FRAGMENT'>);
    re.push(1, frags(big, 4, 20)[0] as MessageOf<'FRAGMENT'>);
    expect(re.stats.evicted).toBe(1);
    re.push(2, frags(big, 5, 20)[0] as MessageOf<'FRAGMENT'>);
    re.push(3, frags(big, 6, 20)[0] as MessageOf<'FRAGMENT'>);
    // Sender 1 holds ids 3 and 4 (2 evicted for the per-sender cap), sender 2 id 5; sender 3's id 6 pushes the total
    // over 3 and the oldest of all (id 3) goes: exactly three remain.
    expect(re.pending).toBe(3);
    expect(re.stats.evicted).toBe(2);
  });

  it('refuses payloads beyond 255 fragments and nested fragments', () => {
    const max = maxFragmentedBytes(231);
    expect(fragmentBytes(new Uint8Array(max), 1, 231)).toHaveLength(255);
    expect(() => fragmentBytes(new Uint8Array(max + 1), 1, 231)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    const inner = encodeMessage({ type: 'FRAGMENT', msgId: 1, index: 1, count: 2, totalLength: null, crc: null, chunk: new Uint8Array(10) });
    const wrapped = fragmentBytes(inner, 2, 12).map((b) => decodeMessage(b) as MessageOf<'FRAGMENT'>);
    const re = new Reassembler({ clock: new Scheduler().clock });
    expect(() => wrapped.forEach((f) => re.push(1, f))).toThrow(ReassemblyError);
  });
});
