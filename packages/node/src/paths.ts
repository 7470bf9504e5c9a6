import { homedir } from 'node:os';
import { join } from 'node:path';
import { StateError } from './errors.js';

export function checkNodeNum(nodeNum: number): void {
  if (!Number.isInteger(nodeNum) || nodeNum < 0 || nodeNum > 0xffffffff) throw new StateError('INVALID_ARGUMENT', `node number must be a u32, got ${nodeNum}`);
}

/**
 * Where a node keeps its state unless told otherwise (--state DIR): ~/.compotastic/<node id>, the id as the 8 hex
 * digits of the node number (Meshtastic's !xxxxxxxx without the "!", which shells treat specially).
 */
export function defaultStateDir(nodeNum: number): string {
  checkNodeNum(nodeNum);
  return join(homedir(), '.compotastic', (nodeNum >>> 0).toString(16).padStart(8, '0'));
}
