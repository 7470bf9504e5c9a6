import { chmodSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type JobSpec, OrchestratorError, validateJobSpec } from '@compotastic/orchestrator';
import { isOtaError } from '@compotastic/ota';
import { NodeError } from './node-error.js';
import type { CompotasticNode } from './core/runtime.js';

// The local control socket a running node listens on: HTTP over a unix socket inside its state directory (mode 0600,
// so only its user can reach it; nothing listens on the network). `compotastic submit | publish | status` are its
// clients.

export const CONTROL_SOCKET = 'control.sock';
/** Largest request body: a bundle of a full slot, in base64. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface SubmitRequest {
  spec: JobSpec;
  /** The job's input, base64. */
  input: string;
  tag?: string;
  /** Seconds from now. */
  deadlineS?: number;
}

export interface PublishRequest {
  /** The signed bundle, base64. */
  bundle: string;
  targets?: number[];
  maxRounds?: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function fromBase64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new NodeError('BAD_REQUEST', `${what} must be base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new NodeError('BAD_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new NodeError('BAD_REQUEST', 'request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function asObject(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new NodeError('BAD_REQUEST', 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

function parseTargets(v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n > 0 && n <= 0xffffffff)) throw new NodeError('BAD_REQUEST', 'targets must be node numbers');
  return v as number[];
}

/** Serves a node's control API on `<stateDir>/control.sock`; resolves once listening. */
export async function serveControl(node: CompotasticNode, stateDir: string): Promise<{ path: string; close: () => Promise<void> }> {
  const path = join(stateDir, CONTROL_SOCKET);
  // The state directory's lock is held, so a socket file left here belongs to a node that is gone.
  if (existsSync(path)) unlinkSync(path);
  const server: Server = createServer((req, res) => {
    void handle(node, req).then(
      (body) => send(res, 200, body),
      (e: unknown) => {
        const typed = e instanceof NodeError || e instanceof OrchestratorError || isOtaError(e);
        const err = e as { code?: string; message?: string };
        send(res, typed ? 400 : 500, { error: { code: typed ? err.code : 'INTERNAL', message: err.message ?? String(e) } });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function handle(node: CompotasticNode, req: IncomingMessage): Promise<unknown> {
  const route = `${req.method} ${req.url}`;
  switch (route) {
    case 'GET /status':
      return node.status();
    case 'POST /jobs': {
      const o = asObject(await readBody(req));
      const spec = o.spec as JobSpec;
      validateJobSpec(spec);
      const input = fromBase64(o.input, 'input');
      if (o.tag !== undefined && (typeof o.tag !== 'string' || o.tag.length > 64)) throw new NodeError('BAD_REQUEST', 'tag must be a string of at most 64 characters');
      if (o.deadlineS !== undefined && !(typeof o.deadlineS === 'number' && o.deadlineS > 0 && o.deadlineS <= 86_400)) throw new NodeError('BAD_REQUEST', 'deadlineS must be 0..86400');
      const outcome = await node.submit(spec, input, {
        ...(typeof o.tag === 'string' ? { tag: o.tag } : {}),
        ...(typeof o.deadlineS === 'number' ? { deadlineS: o.deadlineS } : {}),
      });
      return { ...outcome, output: outcome.output ? b64(outcome.output) : null };
    }
    case 'POST /publish': {
      const o = asObject(await readBody(req));
      const bundle = fromBase64(o.bundle, 'bundle');
      const targets = parseTargets(o.targets);
      if (o.maxRounds !== undefined && !(Number.isInteger(o.maxRounds) && (o.maxRounds as number) >= 1 && (o.maxRounds as number) <= 100)) {
        throw new NodeError('BAD_REQUEST', 'maxRounds must be 1..100');
      }
      return node.publish(bundle, { ...(targets ? { targets } : {}), ...(typeof o.maxRounds === 'number' ? { maxRounds: o.maxRounds } : {}) });
    }
    case 'POST /publish-model': {
      const o = asObject(await readBody(req));
      const parts = { config: fromBase64(o.config, 'config'), weights: fromBase64(o.weights, 'weights') };
      if (!Number.isInteger(o.version)) throw new NodeError('BAD_REQUEST', 'version must be an integer');
      const targets = parseTargets(o.targets);
      return node.publishModel(parts, o.version as number, targets ? { targets } : {});
    }
    default:
      throw new NodeError('NOT_FOUND', `no such request: ${route}`);
  }
}

/** Finds the control socket: `<stateDir>/control.sock`, or the only running node's under ~/.compotastic. */
export function findControlSocket(stateDir: string | null): string {
  if (stateDir) return join(stateDir, CONTROL_SOCKET);
  const root = join(homedir(), '.compotastic');
  let dirs: string[] = [];
  try {
    dirs = readdirSync(root);
  } catch {
    dirs = [];
  }
  const found = dirs.map((d) => join(root, d, CONTROL_SOCKET)).filter((p) => existsSync(p));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new NodeError('NO_NODE', `no running node found under ${root}: start one with compotastic node, or give --state DIR`);
  throw new NodeError('NO_NODE', `${found.length} nodes run under ${root}: say which with --state DIR`);
}

/** One request to a node's control socket; a refusal comes back as a typed NodeError. */
export function controlRequest(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reject(new NodeError('BAD_RESPONSE', `the node answered ${res.statusCode} with a body that is not JSON`));
          return;
        }
        const err = (parsed as { error?: { code?: string; message?: string } }).error;
        if (res.statusCode !== 200 || err) reject(new NodeError('REFUSED', `${err?.code ?? res.statusCode}: ${err?.message ?? 'refused'}`));
        else resolve(parsed);
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(new NodeError('NO_NODE', e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `no node is listening on ${socketPath}` : e.message));
    });
    if (payload) req.write(payload);
    req.end();
  });
}
