import { crc32 } from '@compotastic/mesh';
import { StateError } from './errors.js';

// Every state file is one text header line and a body:
//
//   compotastic-state <kind> v<version> <body length> <crc32 of body, 8 hex digits>\n<body>
//
// The header names the file's kind (so a file in the wrong place is refused) and format version; the length catches
// truncation and the CRC-32 any other damage. JSON bodies keep the files readable with a text viewer.

const MAGIC = 'compotastic-state ';
const MAX_HEADER_BYTES = 96;
const HEADER = /^compotastic-state ([a-z][a-z-]{0,31}) v(\d{1,5}) (\d{1,10}) ([0-9a-f]{8})$/;
const utf8 = new TextEncoder();

export interface FileKind {
  kind: string;
  version: number;
}

export function encodeStateFile(k: FileKind, body: Uint8Array): Uint8Array {
  const crc = crc32(body).toString(16).padStart(8, '0');
  const header = utf8.encode(`${MAGIC}${k.kind} v${k.version} ${body.length} ${crc}\n`);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** The body of a state file of kind `k`; any damage is a StateError with the corruption's code. */
export function decodeStateFile(k: FileKind, bytes: Uint8Array, file?: string): Uint8Array {
  const fail = (code: ConstructorParameters<typeof StateError>[0], why: string): StateError =>
    new StateError(code, `${file ?? `${k.kind} file`}: ${why}`, file === undefined ? {} : { file });
  const magicSeen = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < magicSeen; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) throw fail('BAD_MAGIC', 'not a compotastic state file');
  const nl = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
  if (nl < 0) throw bytes.length < MAX_HEADER_BYTES ? fail('TRUNCATED', 'the header is cut short') : fail('BAD_MAGIC', 'no header line');
  const m = HEADER.exec(String.fromCharCode(...bytes.subarray(0, nl)));
  if (!m) throw fail('BAD_MAGIC', 'malformed header line');
  const [, kind, version, length, crc] = m as unknown as [string, string, string, string, string];
  if (kind !== k.kind) throw fail('BAD_MAGIC', `is a ${kind} file, expected ${k.kind}`);
  if (Number(version) !== k.version) throw fail('WRONG_VERSION', `format v${version}, this version reads v${k.version}`);
  const body = bytes.subarray(nl + 1);
  const want = Number(length);
  if (body.length < want) throw fail('TRUNCATED', `body has ${body.length} of ${want} bytes`);
  if (body.length > want) throw fail('BAD_LENGTH', `body has ${body.length} bytes, the header says ${want}`);
  if (crc32(body) !== parseInt(crc, 16)) throw fail('BAD_CHECKSUM', 'body does not match its CRC-32');
  return body;
}

export function encodeJsonFile(k: FileKind, value: unknown): Uint8Array {
  return encodeStateFile(k, utf8.encode(`${JSON.stringify(value, null, 2)}\n`));
}

/** The parsed JSON body of a state file; shape checks are the caller's (BAD_CONTENT). */
export function decodeJsonFile(k: FileKind, bytes: Uint8Array, file?: string): unknown {
  const body = decodeStateFile(k, bytes, file);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch (e) {
    throw new StateError('BAD_JSON', `${file ?? `${k.kind} file`}: body is not JSON`, file === undefined ? { cause: e } : { file, cause: e });
  }
}

/** A BAD_CONTENT error for a decoded body whose fields are wrong. */
export function badContent(k: FileKind, why: string, file?: string): StateError {
  return new StateError('BAD_CONTENT', `${file ?? `${k.kind} file`}: ${why}`, file === undefined ? {} : { file });
}

/** Narrows a parsed JSON value to a plain object. */
export function asObject(k: FileKind, v: unknown, file?: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badContent(k, 'body is not a JSON object', file);
  return v as Record<string, unknown>;
}

/** An integer field in [min, max]. */
export function intField(k: FileKind, o: Record<string, unknown>, name: string, min: number, max: number, file?: string): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badContent(k, `${name} must be an integer ${min}..${max}`, file);
  return v;
}
