/**
 * A node's user id as Meshtastic writes it (User.id, and what clients show): `!` and the node number in
 * eight lower-case hex digits.
 */
export function nodeUserId(num: number): string {
  return `!${(num >>> 0).toString(16).padStart(8, '0')}`;
}
