import { fromHex, toHex } from '@compotastic/mesh';
import { ConfigError } from '@compotastic/orchestrator';
import type { Io } from '@compotastic/orchestrator/cli-support';
import { admitNode, createSwarm, revokeNode } from './swarm-files.js';

export const SWARM_USAGE = `Usage:
  compotastic swarm create --out DIR                               a new swarm: the operator's key pair in DIR
  compotastic swarm admit --swarm DIR --node NUM --node-key HEX    certify a node's identity key (compotastic status
                          [--days D]                               shows it), valid D days (default 365)
  compotastic swarm revoke --swarm DIR --node NUM [--node-key HEX] revoke a node's key (default: its certificate's)

A node started with --swarm DIR (a copy without operator.json is enough) admits only peers with valid, unexpired,
unrevoked certificates of that swarm, and introduces its own certificate with its key.
`;

function nodeNumArg(v: string): number {
  const n = v.startsWith('!') ? Number.parseInt(v.slice(1), 16) : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 0xfffffffe) throw new ConfigError('BAD_OPTION', `--node expects a node number (decimal or !hex), got ${v}`);
  return n;
}

function keyArg(v: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new ConfigError('BAD_OPTION', '--node-key expects an Ed25519 public key as 64 hex digits');
  return fromHex(v.toLowerCase());
}

export function swarmCommand(args: string[], io: Io, take: (args: string[], i: number, a: string) => string): number {
  const [sub, ...rest] = args;
  let dir: string | null = null;
  let num: number | null = null;
  let key: Uint8Array | null = null;
  let days = 365;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    switch (a) {
      case '--help':
      case '-h':
        io.out(SWARM_USAGE);
        return 0;
      case '--out':
      case '--swarm': dir = take(rest, i++, a); break;
      case '--node': num = nodeNumArg(take(rest, i++, a)); break;
      case '--node-key': key = keyArg(take(rest, i++, a)); break;
      case '--days': {
        days = Number(take(rest, i++, a));
        if (!Number.isFinite(days) || days <= 0 || days > 36_500) throw new ConfigError('BAD_OPTION', '--days expects 0 < D <= 36500');
        break;
      }
      default:
        throw new ConfigError('BAD_OPTION', `unknown option ${a} (compotastic swarm --help)`);
    }
  }
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(SWARM_USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (!dir) throw new ConfigError('BAD_OPTION', sub === 'create' ? 'swarm create needs --out DIR' : `swarm ${sub} needs --swarm DIR`);
  switch (sub) {
    case 'create': {
      const { publicKey } = createSwarm(dir);
      io.out(`swarm created in ${dir}; operator key ${toHex(publicKey)} (keep ${dir}/operator.json secret)\n`);
      return 0;
    }
    case 'admit': {
      if (num === null || key === null) throw new ConfigError('BAD_OPTION', 'swarm admit needs --node NUM and --node-key HEX');
      const expiresS = Math.floor(Date.now() / 1000 + days * 86_400);
      io.out(`admitted node ${num} until ${new Date(expiresS * 1000).toISOString()}: ${admitNode(dir, num, key, expiresS)}\n`);
      return 0;
    }
    case 'revoke': {
      if (num === null) throw new ConfigError('BAD_OPTION', 'swarm revoke needs --node NUM');
      revokeNode(dir, num, key);
      io.out(`revoked node ${num}; copy ${dir}/revoked.json to the swarm's nodes\n`);
      return 0;
    }
    default:
      throw new ConfigError('BAD_OPTION', `unknown swarm command ${sub} (create, admit, revoke)`);
  }
}
