/**
 * What the transfer layer needs from a transport: send a payload of at most 231 bytes, to everyone in range or to one
 * node. Incoming payloads are handed to the sender's or receiver's onMessage by the adapter.
 */
export interface TransferLink {
  send(payload: Uint8Array, to?: number): void;
}
