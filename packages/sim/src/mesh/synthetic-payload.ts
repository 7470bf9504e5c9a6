import { PortNum, Prng } from '@compotastic/mesh';

const WORDS = [
  'ok', 'on', 'my', 'way', 'at', 'the', 'north', 'gate', 'camp', 'water', 'low', 'battery', 'signal', 'good', 'heading',
  'back', 'soon', 'meet', 'by', 'bridge', 'road', 'clear', 'need', 'help', 'with', 'tent', 'all', 'fine', 'here',
  'copy', 'that', 'see', 'you', 'in', 'ten', 'min', 'weather', 'turning', 'found', 'trail', 'east', 'ridge', 'check',
  'in', 'later', 'thanks', 'radio', 'test',
];

/**
 * The payload of a scenario message that carries only a size: readable text on TEXT_MESSAGE_APP, bytes otherwise.
 * Derived from the packet's sender and id, so it is the same at every receiver and in every run, and generating it
 * draws nothing from the simulation's random streams.
 */
export function syntheticPayload(from: number, id: number, portnum: number, length: number): Uint8Array {
  const rng = new Prng(from >>> 0).derive(id >>> 0);
  if (portnum !== PortNum.TEXT_MESSAGE_APP) return rng.bytes(length);
  let text = '';
  while (text.length < length) text += (text ? ' ' : '') + (WORDS[rng.intBelow(WORDS.length)] as string);
  return new TextEncoder().encode(text.slice(0, length).trimEnd().padEnd(length, '.'));
}
