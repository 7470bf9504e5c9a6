#!/usr/bin/env node
import { freemem } from 'node:os';
import { WallClock } from '@compotastic/mesh';
import { MESHTASTIC_SERIAL_BAUD, MESHTASTIC_TCP_PORT, SerialTransport, TcpTransport } from '@compotastic/mesh/node';
import { loadKernel, type Kernel } from '@compotastic/kernel';
import { enableRelaxedSimd } from '@compotastic/kernel/node';
import type { NodeHost } from './context.js';
import { type Io, processIo, reportingTypedErrors, runIfScript } from './cli-support.js';
import { ConfigError } from './errors.js';
import { ExecutorChain, KernelExecutor, OnnxExecutor } from './jobs/executor.js';
import type { DeviceTransport } from './meshtastic/meshdevice-link.js';
import { ReconnectingMeshLink } from './meshtastic/reconnecting-link.js';
import { Orchestrator } from './orchestrator.js';
import { DEVICE_CLASS_CODES, type DeviceClassName } from './registry/capability.js';
import { nodeName } from './scheduler/planner.js';

const USAGE = `Usage:
  compotastic node --tcp <host[:port]> [options]     join a real mesh (a node's TCP API or meshtasticd) as a compute node
  compotastic node --serial <path> [--baud N] [...]  the same through a radio on USB serial (/dev/ttyUSB0, COM3)

node options (exactly one of --tcp and --serial):
  --baud N              serial speed with --serial (default 115200, the firmware's)
  --port N              Meshtastic port for the compute layer (default 256, PRIVATE_APP)
  --device-class C      ${DEVICE_CLASS_CODES.join(' | ')} (default laptop)
  --ram-mb M            memory offered to jobs (default half of the free memory)
  --battery-pct P       host battery level (default: external power)
  --no-accept           submit nothing and take no work: only advertise and watch
  --no-onnx             do not run int32 GEMMs through onnxruntime-web
  --seed S              seed for ids and jitter (default: from the node number)

Simulated swarms moved to their own package: compotastic-swarm (@compotastic/swarm, pnpm swarm).
`;

function take(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new ConfigError('BAD_OPTION', `${flag} needs a value`);
  return v;
}

function numberArg(flag: string, v: string, min = -Infinity, max = Infinity): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError('BAD_OPTION', `${flag} expects a number ${min}..${max}, got "${v}"`);
  return n;
}

/** host[:port] -> { host, port }; IPv6 literals in brackets. */
export function parseAddress(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m || !m[1]) throw new ConfigError('BAD_ADDRESS', `expected host[:port], got "${text}"`);
  const port = m[2] === undefined ? MESHTASTIC_TCP_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError('BAD_ADDRESS', `bad port in "${text}"`);
  return { host: m[1], port };
}

/** The radio `compotastic node` attaches to: exactly one of --tcp and --serial. */
export function radioOpener(o: { tcp: string; serial: string; baud: number | null }): { name: string; open: () => Promise<DeviceTransport> } {
  if (o.tcp && o.serial) throw new ConfigError('BAD_OPTION', 'node takes one of --tcp and --serial, not both');
  if (o.serial) {
    const baudRate = o.baud ?? MESHTASTIC_SERIAL_BAUD;
    return { name: `${o.serial} at ${baudRate} baud`, open: () => SerialTransport.connect({ path: o.serial, baudRate }) };
  }
  if (o.baud !== null) throw new ConfigError('BAD_OPTION', '--baud goes with --serial');
  if (!o.tcp) throw new ConfigError('BAD_OPTION', 'node needs --tcp <host[:port]> or --serial <path>');
  const address = parseAddress(o.tcp);
  return { name: `${address.host}:${address.port}`, open: () => TcpTransport.connect({ host: address.host, port: address.port }) };
}

async function measureGops(kernel: Kernel): Promise<number> {
  const m = 32;
  const k = 256;
  const n = 256;
  const a = new Uint8Array(m * k).fill(3);
  const packed = kernel.packWeights(new Int8Array(k * n).fill(1), k, n, 0);
  const t0 = performance.now();
  let runs = 0;
  while (performance.now() - t0 < 200) {
    kernel.matmulInteger(a, m, packed, 0);
    runs++;
  }
  const ms = performance.now() - t0;
  packed.dispose();
  return (2 * m * k * n * runs) / (ms * 1e6);
}

async function node(args: string[], io: Io): Promise<number> {
  let tcp = '';
  let serial = '';
  let baud: number | null = null;
  let port = 256;
  let deviceClass: DeviceClassName = 'laptop';
  let ramMb: number | null = null;
  let battery: number | null = null;
  let accept = true;
  let onnx = true;
  let seed: number | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = (): string => take(args, i++, a);
    switch (a) {
      case '--tcp':
        tcp = v();
        break;
      case '--serial':
        serial = v();
        break;
      case '--baud':
        baud = numberArg(a, v(), 1, 4_000_000);
        if (!Number.isInteger(baud)) throw new ConfigError('BAD_OPTION', `--baud expects a whole number, got "${baud}"`);
        break;
      case '--port':
        port = numberArg(a, v(), 256, 511);
        break;
      case '--device-class': {
        const c = v();
        if (!(DEVICE_CLASS_CODES as readonly string[]).includes(c)) throw new ConfigError('BAD_OPTION', `--device-class must be one of ${DEVICE_CLASS_CODES.join(', ')}`);
        deviceClass = c as DeviceClassName;
        break;
      }
      case '--ram-mb':
        ramMb = numberArg(a, v(), 0, 1e7);
        break;
      case '--battery-pct':
        battery = numberArg(a, v(), 0, 100);
        break;
      case '--no-accept':
        accept = false;
        break;
      case '--no-onnx':
        onnx = false;
        break;
      case '--seed':
        seed = numberArg(a, v(), 0, 0xffffffff);
        break;
      default:
        throw new ConfigError('BAD_OPTION', `unknown option ${a}`);
    }
  }
  const radio = radioOpener({ tcp, serial, baud });
  enableRelaxedSimd();
  const kernel = await loadKernel();
  const gops = await measureGops(kernel);
  const clock = new WallClock();
  io.err(`kernel: ${kernel.build} build, ${gops.toFixed(1)} GOPS measured; connecting to ${radio.name}...\n`);
  // Either transport goes through the same reconnecting link: a reboot, a dropped socket or an unplugged cable alike.
  const link = await ReconnectingMeshLink.connect(radio.open, {
    seed: seed ?? 1,
    portnum: port,
    onRouterWarning: (w) => io.err(`warning: ${w.message}\n`),
    onStatus: (up, detail) => io.err(`radio ${up ? 'connected' : 'disconnected'}: ${detail}\n`),
  });
  const host: NodeHost = {
    clock,
    batteryPct: () => battery,
    freeRamKiB: () => Math.floor((ramMb ?? freemem() / 2 / 1048576) * 1024),
    report: (type, data) => io.out(`${JSON.stringify({ t: Math.round(clock.now()), type, ...data })}\n`),
  };
  const executor = onnx ? new ExecutorChain([new OnnxExecutor(), new KernelExecutor(kernel)]) : new KernelExecutor(kernel);
  const orch = new Orchestrator({
    host,
    mesh: link,
    executor,
    seed: seed ?? link.nodeNum,
    capabilities: {
      deviceClass,
      accelerators: [],
      precisions: ['int8', 'fp32'],
      onnxRuntime: onnx,
      kernelBuild: kernel.build,
      acceptsJobs: accept,
      externalPower: battery === null,
      portBlocked: false,
      links: { ble: false, wifi: false },
      modelFamilies: ['gemm', 'gemv', ...(onnx ? (['onnx-graph'] as const) : [])],
      freeRamKiB: host.freeRamKiB(),
      gops,
      firmwareVersion: /^\d+\.\d+\.\d+/.test(link.firmware) ? link.firmware : '0.0.0',
      modelId: 0,
      modelVersion: 0,
      computeDrainPctPerHour: 0,
    },
    config: { portnum: port, startJitterMs: 5000 },
  });
  orch.start();
  io.err(`node ${nodeName(link.nodeNum)} is advertising on port ${port}; Ctrl-C to leave\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  orch.close();
  await link.close();
  return 0;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv.filter((a) => a !== '--');
  return reportingTypedErrors(io, async () => {
    if (command === 'node') return node(rest, io);
    io.out(USAGE);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 1;
  });
}

runIfScript(import.meta.url, (argv) => main(argv));
