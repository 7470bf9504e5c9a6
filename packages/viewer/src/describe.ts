// Readable one-line text for an event the viewer has no special wording for:
// "n12 router warning: kind self-blocked, message …" rather than raw JSON.
// Values are shortened, nested objects summarised, node ids shown by name.

import { withShortNames, type NodeDirectory } from './names.js';

const MAX_VALUE = 90;
const MAX_FIELDS = 6;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** An event or field name as words: router_warning -> router warning. */
export function words(name: string): string {
  return name.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`).trim();
}

export function describeValue(dir: NodeDirectory, v: unknown, depth = 0): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (typeof v === 'string') return clip(withShortNames(dir, v), MAX_VALUE);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) {
    if (depth > 0 || v.length > 4) return `${v.length} items`;
    return `[${v.map((x) => describeValue(dir, x, depth + 1)).join(', ')}]`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (depth > 0) return `{${keys.length} fields}`;
    return describeFields(dir, v as Record<string, unknown>, depth + 1);
  }
  return clip(String(v), MAX_VALUE);
}

/** `key value, key value` for the first few fields of a record. */
export function describeFields(dir: NodeDirectory, fields: Record<string, unknown>, depth = 0): string {
  const keys = Object.keys(fields);
  const shown = keys.slice(0, MAX_FIELDS).map((k) => `${words(k)} ${describeValue(dir, fields[k], depth)}`);
  if (keys.length > MAX_FIELDS) shown.push(`${keys.length - MAX_FIELDS} more`);
  return shown.join(', ');
}
