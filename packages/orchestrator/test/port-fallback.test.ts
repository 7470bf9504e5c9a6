import { describe, expect, it } from 'vitest';
import { PortFallback, defaultFallbackPortnum } from '../src/meshtastic/port-fallback.js';

describe('PortFallback', () => {
  it('answers a peer on the port it last heard that peer use', () => {
    const f = new PortFallback(256, 287);
    expect(f.portFor(7, false)).toBe(256);
    f.heard(7, 287);
    expect(f.portFor(7, false)).toBe(287);
    expect(f.portFor(8, false)).toBe(256);
    // Broadcasts stay on the main port unless our own radio needs the fallback.
    expect(f.portFor('broadcast', false)).toBe(256);
    f.heard(7, 256);
    expect(f.portFor(7, false)).toBe(256);
    // A packet on another port says nothing about which port the peer speaks on.
    f.heard(9, 287);
    f.heard(9, 290);
    expect(f.portFor(9, false)).toBe(287);
  });

  it('sends everything on the fallback port while our own radio drops the main one', () => {
    const f = new PortFallback(256, 287);
    expect(f.portFor('broadcast', true)).toBe(287);
    expect(f.portFor(5, true)).toBe(287);
    expect(f.carries(256) && f.carries(287) && !f.carries(290)).toBe(true);
  });

  it('is usable only where the firmware passes the fallback port', () => {
    const f = new PortFallback(256, 287);
    expect(f.usable(true, '2.6-blacklist')).toBe(true);
    expect(f.usable(false, '2.6-blacklist')).toBe(false);
    // 2.7.4+ drops every private port on CORE_PORTNUMS_ONLY: no fallback helps.
    expect(f.usable(true, '2.7-whitelist')).toBe(false);
    // 257 is on 2.6's blacklist itself.
    expect(new PortFallback(256, 257).usable(true, '2.6-blacklist')).toBe(false);
  });

  it('has no fallback when disabled or when it would be the main port', () => {
    for (const f of [new PortFallback(256, null), new PortFallback(287, 287)]) {
      f.heard(3, 287);
      expect(f.fallback).toBeNull();
      expect(f.portFor(3, true)).toBe(f.main);
      expect(f.usable(true, '2.6-blacklist')).toBe(false);
    }
    expect(defaultFallbackPortnum(256)).toBe(287);
    expect(defaultFallbackPortnum(287)).toBe(288);
  });

  it('remembers a bounded number of peers, forgetting the least recently heard first', () => {
    const f = new PortFallback(256, 287);
    for (let n = 1; n <= 1025; n++) f.heard(n, 287);
    expect(f.fallbackPeers).toBe(1024);
    expect(f.portFor(1, false)).toBe(256);
    expect(f.portFor(2, false)).toBe(287);
    expect(f.portFor(1025, false)).toBe(287);
  });
});
