import { deflateSync } from 'fflate';
import { ByteWriter, concatBytes } from '../bytes.js';

// The publisher's side of blocks.ts: DEFLATE in independent blocks, each a varint compressed length and raw DEFLATE
// of at most `blockBytes` input bytes.

export function deflateBlocks(data: Uint8Array, blockBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += blockBytes) {
    const block = deflateSync(data.subarray(at, at + blockBytes), { level: 9 });
    parts.push(new ByteWriter(4).varint(block.length).finish(), block);
  }
  return concatBytes(parts);
}
