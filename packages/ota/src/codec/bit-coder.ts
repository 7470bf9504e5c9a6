import { RangeDecoder, RangeEncoder, type ByteSource } from './range-coder.js';

/**
 * One interface for both directions, so every model is written once: the encoder codes the bit it is given and
 * returns it; the decoder ignores the argument and returns the bit it decodes.
 */
export interface BitCoder {
  bit(p1: number, bit: number): number;
  direct(value: number, count: number): number;
}

export class EncodingBitCoder implements BitCoder {
  readonly rc = new RangeEncoder();
  bit(p1: number, bit: number): number {
    this.rc.encode(bit, p1);
    return bit;
  }
  direct(value: number, count: number): number {
    this.rc.encodeDirect(value, count);
    return value;
  }
  finish(): Uint8Array {
    return this.rc.finish();
  }
}

export class DecodingBitCoder implements BitCoder {
  private readonly rc: RangeDecoder;
  constructor(src: ByteSource) {
    this.rc = new RangeDecoder(src);
  }
  bit(p1: number): number {
    return this.rc.decode(p1);
  }
  direct(_value: number, count: number): number {
    return this.rc.decodeDirect(count);
  }
}
