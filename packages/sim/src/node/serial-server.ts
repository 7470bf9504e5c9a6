import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SimError } from '../errors.js';
import type { Simulation } from '../simulation.js';
import { startTcpServers, type TcpServers } from './tcp-server.js';

export interface SerialServerOptions {
  /** Node number -> path of the pseudo-terminal to create (a symlink to /dev/pts/N, as socat's `link` makes). */
  nodes: Map<number, string>;
  /** Bridge to these TCP servers (the nodes are also served on TCP) instead of starting private loopback ones. */
  tcp?: TcpServers;
  /** A node's bridge failed repeatedly and was given up. */
  onError?: (err: SimError) => void;
  /** The socat binary (default: `socat` on PATH). */
  socat?: string;
}

export interface SerialServers {
  /** Node number -> pseudo-terminal path. */
  paths: Map<number, string>;
  close(): Promise<void>;
}

export const SOCAT_MISSING_HINT = "install Debian's socat: sudo apt-get install socat";

/** Fail with SOCAT_MISSING unless the socat binary runs. */
export function requireSocat(socat = 'socat'): void {
  const probe = spawnSync(socat, ['-V'], { stdio: 'ignore' });
  if (probe.error) throw new SimError('SOCAT_MISSING', `serving nodes on pseudo-terminals needs socat, which was not found (${probe.error.message}): ${SOCAT_MISSING_HINT}`);
}

/** Consecutive failed socat runs before a node's bridge is given up. */
const MAX_FAILURES = 5;

/**
 * Serve simulated nodes' client API on pseudo-terminals, so a client opens a node as it opens a radio's USB serial.
 * Node has no pty API, so for each node a socat process makes the pty and bridges it to the node's TCP server: the
 * session logic and framing stay the TCP server's. socat waits until a client opens the pty (`wait-slave`) before it
 * connects, so each open is a fresh client session, and when the client closes the port socat exits and is started
 * again on the same path. Run the simulation in real time (runRealtime) while clients are attached.
 */
export async function startSerialServers(sim: Simulation, options: SerialServerOptions): Promise<SerialServers> {
  const socat = options.socat ?? 'socat';
  requireSocat(socat);
  const nums = [...options.nodes.keys()];
  const paths = new Map<number, string>();
  for (const num of nums) {
    sim.requireNode(num);
    const path = resolve(options.nodes.get(num) as string);
    if ([...paths.values()].includes(path)) throw new SimError('INVALID_ARGUMENT', `two nodes on the same serial path ${path}`);
    // socat replaces a symlink (a stale one from an earlier run); anything else at the path is somebody's file.
    const st = await lstat(path).catch(() => null);
    if (st && !st.isSymbolicLink()) throw new SimError('PATH_EXISTS', `${path} exists and is not a symlink: choose another serial path`);
    await mkdir(dirname(path), { recursive: true });
    paths.set(num, path);
  }
  const missing = options.tcp ? nums.filter((n) => !options.tcp!.ports.has(n)) : [];
  if (missing.length) throw new SimError('INVALID_ARGUMENT', `nodes ${missing.join(', ')} are not served on TCP`);
  const tcp = options.tcp ?? (await startTcpServers(sim, { basePort: 0, nodes: nums }));
  const bridges: Bridge[] = [];
  // Children outlive a crashed parent; kill them at least on a normal exit.
  const killAll = (): void => {
    for (const b of bridges) b.kill();
  };
  process.once('exit', killAll);
  const close = async (): Promise<void> => {
    process.off('exit', killAll);
    await Promise.all(bridges.map((b) => b.close()));
    if (!options.tcp) await tcp.close();
  };
  try {
    for (const [num, path] of paths) {
      const bridge = new Bridge(socat, path, tcp.ports.get(num) as number, (e) => options.onError?.(e));
      bridges.push(bridge);
      await bridge.ready;
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { paths, close };
}

/** One node's socat process, restarted after each client session. */
class Bridge {
  readonly ready: Promise<void>;
  private child: ChildProcess | null = null;
  private closing = false;
  private failures = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly socat: string,
    private readonly path: string,
    private readonly port: number,
    private readonly onError: (err: SimError) => void,
  ) {
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    // A link left by a killed run would look ready before socat replaces it.
    await unlink(this.path).catch(() => {});
    if (this.closing) return;
    // pty-interval: how often socat checks whether a client opened the pty (default 1 s, a slow open).
    const child = spawn(this.socat, [`PTY,link=${this.path},raw,echo=0,wait-slave,pty-interval=0.05`, `TCP:127.0.0.1:${this.port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let log = '';
    child.on('error', (e) => {
      log += `${e.message}\n`;
    });
    child.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-2000);
    });
    let exitedNow = false;
    this.exited = new Promise<void>((done) =>
      child.once('close', (code) => {
        exitedNow = true;
        done();
        if (this.closing) return;
        // Exit 0: the client closed the port. Anything else (the TCP server gone, a pty failure) counts as a failure.
        this.failures = code === 0 ? 0 : this.failures + 1;
        if (this.failures >= MAX_FAILURES) {
          this.onError(new SimError('SERIAL_BRIDGE_FAILED', `socat for ${this.path} failed ${MAX_FAILURES} times in a row: ${log.trim()}`));
          return;
        }
        setTimeout(() => {
          if (!this.closing) this.start().catch((e: SimError) => this.onError(e));
        }, code === 0 ? 0 : 200 * this.failures);
      }),
    );
    // Ready once socat has made the link; it makes it before waiting for a client.
    for (let i = 0; i < 500 && !exitedNow; i++) {
      const st = await lstat(this.path).catch(() => null);
      if (st?.isSymbolicLink()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new SimError('SERIAL_BRIDGE_FAILED', `socat did not create ${this.path}${log ? `: ${log.trim()}` : ''}`);
  }

  kill(): void {
    this.closing = true;
    this.child?.kill();
  }

  async close(): Promise<void> {
    this.kill();
    // socat removes its link when it exits on SIGTERM.
    await this.exited;
  }
}
