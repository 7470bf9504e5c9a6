import { describe, expect, it } from 'vitest';
import { nodeUserId } from '../src/index.js';

describe('nodeUserId', () => {
  it('writes the node number as ! and eight lower-case hex digits, as Meshtastic clients show it', () => {
    expect(nodeUserId(0x10001516)).toBe('!10001516');
    expect(nodeUserId(0xab)).toBe('!000000ab');
    expect(nodeUserId(0xdeadbeef)).toBe('!deadbeef');
  });
  it('reads a node number held as a signed 32-bit int the same way', () => {
    expect(nodeUserId(0xdeadbeef | 0)).toBe('!deadbeef');
  });
});
