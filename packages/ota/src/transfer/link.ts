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
}
