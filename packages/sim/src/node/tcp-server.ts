import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '@compotastic/mesh';
import { VirtualRadio, type ClientSession } from '../client/virtual-radio.js';
import { SimError } from '../errors.js';
import type { Simulation } from '../simulation.js';

export interface TcpServerOptions {
  host?: string;
  /** Port of the first node; node i listens on basePort + i. 0 picks free ports. Default 4403. */
  basePort?: number;
  /** Node numbers to serve (default: all nodes). */
  nodes?: number[];
}

export interface TcpServers {
  /** Node number -> listening port. */
  ports: Map<number, number>;
  close(): Promise<void>;
}

/**
 * Serve each simulated node's client API on 127.0.0.1 with the Meshtastic stream framing (0x94 0xC3 + u16 length), so
 * any Meshtastic client can attach. One client per node at a time; a new connection replaces the previous one.
 * Run the simulation in real time (runRealtime) while clients are attached.
 */
export async function startTcpServers(sim: Simulation, options: TcpServerOptions = {}): Promise<TcpServers> {
  const host = options.host ?? '127.0.0.1';
  const basePort = options.basePort ?? 4403;
  const nums = options.nodes ?? sim.nodes.map((n) => n.num);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports = new Map<number, number>();
  try {
    for (let i = 0; i < nums.length; i++) {
      const num = nums[i] as number;
      const radio = new VirtualRadio(sim, num);
      let current: { socket: Socket; session: ClientSession } | null = null;
      const server = createServer((socket) => {
        socket.setNoDelay(true);
        sockets.add(socket);
        if (current) current.session.close();
        const session = radio.connect(
          (bytes) => {
            if (!socket.destroyed) socket.write(encodeFrame(bytes));
          },
          () => socket.end(),
        );
        const me = { socket, session };
        current = me;
        const decoder = new FrameDecoder();
        socket.on('data', (chunk: Buffer) => {
          for (const item of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
            if (item.type !== 'frame' || session.closed) continue;
            try {
              session.handleToRadio(item.payload);
            } catch {
              // An oversize or late frame: the device would drop it too.
            }
          }
        });
        const finish = (): void => {
          sockets.delete(socket);
          session.close();
          if (current === me) current = null;
        };
        socket.on('close', finish);
        socket.on('error', finish);
      });
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', (err) => reject(new SimError('LISTEN_FAILED', `cannot listen on ${host}:${basePort === 0 ? 0 : basePort + i}: ${err.message}`)));
        server.listen(basePort === 0 ? 0 : basePort + i, host, () => {
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : 0);
        });
      });
      servers.push(server);
      ports.set(num, port);
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  return {
    ports,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
