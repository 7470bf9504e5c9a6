import { MeshError } from './errors.js';
import { MAX_TO_FROM_RADIO_BYTES } from './limits.js';

/** Stream framing magic: every frame starts 0x94 0xC3 then a big-endian u16 length. */
export const FRAME_START1 = 0x94;
export const FRAME_START2 = 0xc3;
export const FRAME_HEADER_BYTES = 4;
export const MAX_FRAME_PAYLOAD_BYTES = MAX_TO_FROM_RADIO_BYTES;

/** Frame a protobuf for a serial/TCP stream. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new MeshError('INVALID_FRAME', 'frame payload must be a Uint8Array');
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new MeshError('FRAME_TOO_LARGE', `frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD_BYTES}`);
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out[0] = FRAME_START1;
  out[1] = FRAME_START2;
  out[2] = (payload.length >> 8) & 0xff;
  out[3] = payload.length & 0xff;
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export type FrameDecoderOutput =
  | { type: 'frame'; payload: Uint8Array }
  /** Bytes outside any frame (a device's debug console text, line noise). */
  | { type: 'garbage'; bytes: Uint8Array };

const enum State {
  Hunt,
  Start2,
  LenHi,
  LenLo,
  Body,
}

/**
 * Incremental deframer. It hunts for 0x94 0xC3, reads the length and then takes exactly that many bytes, whatever they
 * contain, so a body full of 0x94 0xC3 is delivered intact. A header whose length exceeds 512 is treated as noise and
 * the hunt resumes right after its first byte, as the firmware's StreamAPI does. It never buffers more than one frame.
 */
export class FrameDecoder {
  private state: State = State.Hunt;
  private length = 0;
  private body = new Uint8Array(MAX_FRAME_PAYLOAD_BYTES);
  private filled = 0;
  private garbage: number[] = [];
  /** Bytes of the header being parsed, replayed as garbage if the header proves invalid. */
  private pendingHeader: number[] = [];

  /** Feed bytes; returns every complete frame (and garbage run) they finish, in stream order. */
  push(chunk: Uint8Array): FrameDecoderOutput[] {
    const out: FrameDecoderOutput[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.state === State.Body) {
        // Bulk-copy the body: its content is never inspected.
        const take = Math.min(this.length - this.filled, chunk.length - i);
        this.body.set(chunk.subarray(i, i + take), this.filled);
        this.filled += take;
        i += take;
        if (this.filled === this.length) {
          out.push({ type: 'frame', payload: this.body.slice(0, this.length) });
          this.state = State.Hunt;
          this.filled = 0;
        }
      } else {
        this.consume(chunk[i++] as number, out);
      }
    }
    // Report garbage eagerly so a console line appears as soon as it arrives.
    if (this.state === State.Hunt) this.flushGarbage(out);
    return out;
  }

  /** Bytes held in a partial frame or unreported garbage. */
  get bufferedBytes(): number {
    return this.garbage.length + this.pendingHeader.length + (this.state === State.Body ? this.filled : 0);
  }

  /** Drop any partial frame. */
  reset(): void {
    this.state = State.Hunt;
    this.filled = 0;
    this.length = 0;
    this.garbage = [];
    this.pendingHeader = [];
  }

  private flushGarbage(out: FrameDecoderOutput[]): void {
    if (this.garbage.length > 0) {
      out.push({ type: 'garbage', bytes: Uint8Array.from(this.garbage) });
      this.garbage = [];
    }
  }

  private consume(byte: number, out: FrameDecoderOutput[]): void {
    switch (this.state) {
      case State.Hunt:
        if (byte === FRAME_START1) {
          this.pendingHeader = [byte];
          this.state = State.Start2;
        } else {
          this.garbage.push(byte);
        }
        return;
      case State.Start2:
        if (byte === FRAME_START2) {
          this.pendingHeader.push(byte);
          this.state = State.LenHi;
        } else {
          // Not a frame after all: the 0x94 was noise; re-examine this byte from the hunt state.
          this.garbage.push(...this.pendingHeader);
          this.pendingHeader = [];
          this.state = State.Hunt;
          this.consume(byte, out);
        }
        return;
      case State.LenHi:
        this.pendingHeader.push(byte);
        this.length = byte << 8;
        this.state = State.LenLo;
        return;
      case State.LenLo: {
        this.length |= byte;
        if (this.length > MAX_FRAME_PAYLOAD_BYTES) {
          // Bogus length: drop the first start byte and rescan the rest of the header, so a real frame that begins
          // inside it is still found.
          const replay = [...this.pendingHeader.slice(1), byte];
          this.garbage.push(this.pendingHeader[0] as number);
          this.pendingHeader = [];
          this.state = State.Hunt;
          for (const b of replay) this.consume(b, out);
          return;
        }
        this.flushGarbage(out);
        this.pendingHeader = [];
        this.filled = 0;
        if (this.length === 0) {
          out.push({ type: 'frame', payload: new Uint8Array(0) });
          this.state = State.Hunt;
        } else {
          this.state = State.Body;
        }
        return;
      }
      case State.Body:
        this.body[this.filled++] = byte;
        if (this.filled === this.length) {
          out.push({ type: 'frame', payload: this.body.slice(0, this.length) });
          this.state = State.Hunt;
          this.filled = 0;
        }
        return;
    }
  }
}
