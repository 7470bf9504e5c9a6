import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '@compotastic/mesh';
import { VirtualRadio, type ClientSession } from '../client/virtual-radio.js';
import { SimError } from '../errors.js';
import type { Simulation } from '../simulation.js';

/** A client's unread FromRadio bytes at which the server stops reading its requests (the client is not reading). */
export const MAX_WRITE_BUFFER_BYTES = 64 * 1024;

export interface TcpServerOptions {
  host?: string;
  /** Port of the first node; node i listens on basePort + i. 0 picks free ports. Default 4403. */
  basePort?: number;
  /** Node numbers to serve (default: all nodes). */
  nodes?: number[];
}

/** What a node's current connection holds (all zero without one). */
export interface TcpConnectionStats {
  /** Request frames read from the socket and not yet handed to the node, and their bytes (at most one read). */
  waitingFrames: number;
  waitingBytes: number;
  /** Requests handed to the node and not yet processed. */
  pendingRequests: number;
  /** FromRadio bytes written and not yet taken by the operating system (the client is slow or not reading). */
  unsentBytes: number;
}

export interface TcpServers {
  /** Node number -> listening port. */
  ports: Map<number, number>;
  /** The queues of a node's current connection. */
  stats(nodeNum: number): TcpConnectionStats;
  close(): Promise<void>;
}

interface Connection {
  socket: Socket;
  session: ClientSession;
  /** Frames read but not yet handed to the session: bounded by one read, since reading pauses while any wait. */
  waiting: Uint8Array[];
}

/**
 * Serve each simulated node's client API on 127.0.0.1 with the Meshtastic stream framing (0x94 0xC3 + u16 length), so
 * any Meshtastic client can attach. One client per node at a time; a new connection replaces the previous one.
 * Each connection has bounded queues: a client that writes faster than its node handles requests, or never reads
 * what the node sends, stops being read (TCP holds its data), so it grows no memory and stalls no other node.
 * Run the simulation in real time (runRealtime) while clients are attached.
 */
export async function startTcpServers(sim: Simulation, options: TcpServerOptions = {}): Promise<TcpServers> {
  const host = options.host ?? '127.0.0.1';
  const basePort = options.basePort ?? 4403;
  const nums = options.nodes ?? sim.nodes.map((n) => n.num);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports = new Map<number, number>();
  const current = new Map<number, Connection>();
  try {
    for (let i = 0; i < nums.length; i++) {
      const num = nums[i] as number;
      const radio = new VirtualRadio(sim, num);
      const server = createServer((socket) => serve(radio, socket));
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

  function serve(radio: VirtualRadio, socket: Socket): void {
    socket.setNoDelay(true);
    sockets.add(socket);
    current.get(radio.nodeNum)?.session.close();
    const waiting: Uint8Array[] = [];
    const hand = (frame: Uint8Array): void => {
      try {
        session.handleToRadio(frame);
      } catch {
        // An oversize or late frame: the device would drop it too.
      }
    };
    const flow = (): void => {
      if (socket.destroyed) return;
      const congested = socket.writableLength >= MAX_WRITE_BUFFER_BYTES;
      session.setCongested(congested);
      while (waiting.length > 0 && !session.backpressured && !session.closed) hand(waiting.shift() as Uint8Array);
      if (session.closed) waiting.length = 0;
      if (waiting.length > 0 || session.backpressured || congested) socket.pause();
      else socket.resume();
    };
    const session = radio.connect(
      (bytes) => {
        if (socket.destroyed) return;
        socket.write(encodeFrame(bytes));
        if (socket.writableLength >= MAX_WRITE_BUFFER_BYTES) flow();
      },
      () => socket.end(),
    );
    session.onRoom = flow;
    const me: Connection = { socket, session, waiting };
    current.set(radio.nodeNum, me);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const item of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if (item.type === 'frame') waiting.push(item.payload.slice());
      }
      flow();
    });
    socket.on('drain', flow);
    const finish = (): void => {
      sockets.delete(socket);
      // Frames that arrived before the client hung up are still the node's to handle (a one-shot write).
      for (const frame of waiting.splice(0)) {
        if (session.closed) break; // replaced or powered off: the rest is lost with it
        hand(frame);
      }
      session.close();
      if (current.get(radio.nodeNum) === me) current.delete(radio.nodeNum);
    };
    socket.on('close', finish);
    socket.on('error', finish);
  }

  return {
    ports,
    stats: (nodeNum) => {
      const c = current.get(nodeNum);
      if (!c) return { waitingFrames: 0, waitingBytes: 0, pendingRequests: 0, unsentBytes: 0 };
      return {
        waitingFrames: c.waiting.length,
        waitingBytes: c.waiting.reduce((s, f) => s + f.length, 0),
        pendingRequests: c.session.pendingRequests,
        unsentBytes: c.socket.writableLength,
      };
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
