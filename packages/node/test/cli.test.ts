import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, parseAddress, radioOpener } from '../src/cli.js';
import { ConfigError } from '../src/errors.js';

describe('compotastic CLI', () => {
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
    expect(out).toMatch(/compotastic node --tcp/);
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
});
