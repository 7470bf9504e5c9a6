import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@compotastic/orchestrator';
import { main, parseAddress, parseNodeNum, radioOpener } from '../src/cli.js';
import { randomGemmJob as randomGemm } from '../src/gemm-job.js';

describe('compotastic CLI', () => {
  it('answers --help on every command with that command\'s own options', async () => {
    const expected: Record<string, RegExp> = { node: /--state DIR/, submit: /--gemm MxKxN/, publish: /--model PREFIX --version V/, status: /compotastic status \[--state DIR\]/ };
    for (const [command, pattern] of Object.entries(expected)) {
      let out = '';
      expect(await main([command, '--help'], { out: (s) => (out += s), err: () => undefined })).toBe(0);
      expect(out).toMatch(pattern);
    }
    // The swarm command's subcommands too.
    for (const sub of ['create', 'admit', 'revoke']) {
      let out = '';
      expect(await main(['swarm', sub, '--help'], { out: (s) => (out += s), err: () => undefined })).toBe(0);
      expect(out).toMatch(/compotastic swarm create --out DIR/);
    }
  });

  it('parses node numbers in decimal, 0x and !hex, and refuses the rest', () => {
    expect(parseNodeNum('!a1b2c3d4')).toBe(0xa1b2c3d4);
    expect(parseNodeNum('0x10')).toBe(16);
    expect(parseNodeNum('1234')).toBe(1234);
    for (const bad of ['!', '!xyz', '0', '-3', '4294967295', '1.5', '']) expect(() => parseNodeNum(bad)).toThrow(ConfigError);
  });

  it('builds a seeded GEMM job: the same seed gives the same input, shapes are checked', () => {
    const a = randomGemm('4x8x3', 9);
    expect(a.spec).toMatchObject({ kind: 'gemm', m: 4, k: 8, n: 3, weights: 'inline' });
    expect(a.input.length).toBe(4 * 8 + 8 * 3);
    expect(randomGemm('4x8x3', 9).input).toEqual(a.input);
    expect(randomGemm('4x8x3', 10).input).not.toEqual(a.input);
    expect(() => randomGemm('4x8', 1)).toThrow(/MxKxN/);
  });

  it('refuses to reach a node that is not running, with one clear line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-nonode-'));
    let err = '';
    expect(await main(['status', '--state', dir], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
    expect(err).toMatch(/^error: no node is listening on .*control\.sock\n$/);
    expect(await main(['submit', '--state', dir, '--gemm', '2x2x2'], { out: () => undefined, err: (s) => (err = s) })).toBe(1);
    expect(err).toMatch(/no node is listening/);
    expect(await main(['publish', '--state', dir], { out: () => undefined, err: (s) => (err = s) })).toBe(1);
    expect(err).toMatch(/a BUNDLE file, or --model PREFIX/);
  });

  it('parses addresses, rejecting bad ones with typed errors', () => {
    expect(parseAddress('192.168.1.20')).toEqual({ host: '192.168.1.20', port: 4403 });
    expect(parseAddress('meshtasticd:4404')).toEqual({ host: 'meshtasticd', port: 4404 });
    expect(parseAddress('[::1]:4403')).toEqual({ host: '::1', port: 4403 });
    expect(() => parseAddress('host:99999')).toThrow(ConfigError);
  });

  it('prints its usage, which points to where the swarm runner went, and refuses unknown commands', async () => {
    let out = '';
    const io = { out: (s: string) => (out += s), err: () => undefined };
    expect(await main(['--help'], io)).toBe(0);
    for (const c of ['node', 'submit', 'publish', 'status']) expect(out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(out).not.toMatch(/compotastic swarm/);
    expect(out).toMatch(/compotastic-swarm/);
    expect(await main(['swarm'], io)).toBe(1);
    expect(await main(['bogus'], io)).toBe(1);
    let err = '';
    expect(await main(['node'], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
    expect(err).toMatch(/--tcp/);
  });

  it('node attaches through exactly one of --tcp and --serial', async () => {
    expect(radioOpener({ tcp: '', serial: '/dev/ttyUSB0', baud: null }).name).toBe('/dev/ttyUSB0 at 115200 baud');
    expect(radioOpener({ tcp: '', serial: '/dev/ttyACM0', baud: 921600 }).name).toBe('/dev/ttyACM0 at 921600 baud');
    expect(radioOpener({ tcp: '10.0.0.7', serial: '', baud: null }).name).toBe('10.0.0.7:4403');
    expect(() => radioOpener({ tcp: 'h', serial: '/dev/ttyUSB0', baud: null })).toThrow(/one of --tcp and --serial/);
    expect(() => radioOpener({ tcp: 'h', serial: '', baud: 9600 })).toThrow(/--baud goes with --serial/);
    expect(() => radioOpener({ tcp: '', serial: '', baud: null })).toThrow(/--tcp <host\[:port\]> or --serial <path>/);
    // A missing port is a typed error from the transport itself.
    const dir = await mkdtemp(join(tmpdir(), 'cli-serial-'));
    await expect(radioOpener({ tcp: '', serial: join(dir, 'ttyUSB0'), baud: null }).open()).rejects.toMatchObject({ code: 'PORT_NOT_FOUND' });
    let err = '';
    expect(await main(['node', '--tcp', 'h', '--serial', '/dev/ttyUSB0'], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
    expect(err).toMatch(/error: node takes one of --tcp and --serial/);
    expect(await main(['node', '--serial', '/dev/ttyUSB0', '--baud', '9600.5'], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
    expect(err).toMatch(/--baud expects a whole number/);
  });

  it('node refuses a fallback port that collides with its other ports, before touching the radio', async () => {
    for (const [args, pattern] of [
      [['--ota-port', '287'], /the fallback port 287 must differ from --port and --ota-port/],
      [['--port', '300', '--fallback-port', '300'], /the fallback port 300 must differ/],
      [['--fallback-port', '600'], /--fallback-port/],
    ] as const) {
      let err = '';
      expect(await main(['node', '--tcp', '127.0.0.1:9', ...args], { out: () => undefined, err: (s) => (err += s) })).toBe(1);
      expect(err).toMatch(pattern);
    }
  });
});
