/**
 * What the transfer layer needs from a transport: send a payload of at most 231 bytes, to everyone in range or to one
 * node. Incoming payloads are handed to the sender's or receiver's onMessage by the adapter.
 */
export interface TransferLink {
  /**
   * Hands a packet to the radio. Returning false says the radio did not take it (its transmit queue is full, or it is
   * away): the sender keeps the packet and tries again later. Anything else counts as taken.
   */
  send(payload: Uint8Array, to?: number): boolean | void;
  /** What became of the packets taken, for links that learn it after `send` returned (attachToPacketLink). */
  readonly stats?: Readonly<TransferLinkStats>;
}

export interface TransferLinkStats {
  /** Packets taken (send returned true). */
  sent: number;
  /** Taken packets still waiting for the radio's answer. */
  inFlight: number;
  /** Taken packets the radio then refused (queue full, duty cycle, link down...): they never went on air. */
  dropped: number;
  /** `dropped` by the radio's reason (NO_INTERFACE, DUTY_CYCLE_LIMIT, DISCONNECTED...). */
  droppedBy: Record<string, number>;
  /** Sends refused at once because too many packets were still waiting for the radio's answer. */
  busy: number;
}
