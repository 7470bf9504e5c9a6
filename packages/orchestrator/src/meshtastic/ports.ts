import { maxPayloadFor } from '@compotastic/mesh';
import { ConfigError } from '../errors.js';
import type { Destination, PacketLink, ReceivedPacket, SendOptions, SendResult } from '../transport/link.js';

type Handler = (p: ReceivedPacket) => void;

/** One application port of a radio link: its number and the largest payload a packet on it carries. */
export interface PortShape {
  readonly portnum: number;
  readonly maxPayload: number;
}

/**
 * Throws ConfigError unless `portnum` can be opened next to a link's own port: private (256..511), not that one and
 * not the link's fallback port.
 */
export function checkExtraPort(portnum: number, own: number, fallback: number | null = null): void {
  if (!Number.isInteger(portnum) || portnum < 256 || portnum > 511) {
    throw new ConfigError('BAD_OPTION', `an extra port must be a private application port (256..511), got ${portnum}`);
  }
  if (portnum === own) throw new ConfigError('BAD_OPTION', `port ${portnum} is the link's own port; use the link itself`);
  if (portnum === fallback) throw new ConfigError('BAD_OPTION', `port ${portnum} is the link's fallback port (where its radio drops port ${own}); choose another`);
}

/** The receive handlers of every port a link listens on: its own and the ones opened on it. */
export class PortHandlers {
  private readonly byPort = new Map<number, Set<Handler>>();

  /** Starts listening on a port (no handler yet). */
  open(portnum: number): void {
    if (!this.byPort.has(portnum)) this.byPort.set(portnum, new Set());
  }

  has(portnum: number): boolean {
    return this.byPort.has(portnum);
  }

  get portnums(): number[] {
    return [...this.byPort.keys()];
  }

  add(portnum: number, handler: Handler): () => void {
    this.open(portnum);
    const set = this.byPort.get(portnum) as Set<Handler>;
    set.add(handler);
    return () => set.delete(handler);
  }

  deliver(portnum: number, packet: ReceivedPacket): void {
    for (const h of this.byPort.get(portnum) ?? []) h(packet);
  }
}

/**
 * The PacketLink of one opened port: sends go through `send` (the link's one send path, told which port), received
 * packets of the port reach the handlers registered here.
 */
export function portLink(
  portnum: number,
  handlers: PortHandlers,
  send: (port: PortShape, to: Destination, payload: Uint8Array, options: SendOptions) => Promise<SendResult>,
): PacketLink {
  handlers.open(portnum);
  const shape: PortShape = { portnum, maxPayload: maxPayloadFor({ portnum }) };
  return {
    kind: 'lora',
    maxPayload: shape.maxPayload,
    send: (to, payload, options) => send(shape, to, payload, options),
    onPacket: (handler) => handlers.add(portnum, handler),
  };
}
