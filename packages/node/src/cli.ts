#!/usr/bin/env node
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { Prng, WallClock } from '@compotastic/mesh';
import { MESHTASTIC_SERIAL_BAUD, MESHTASTIC_TCP_PORT, SerialTransport, TcpTransport } from '@compotastic/mesh/node';
import { type Kernel, loadBuildBytes, loadKernel } from '@compotastic/kernel';
import { enableRelaxedSimd } from '@compotastic/kernel/node';
import {
  ConfigError, DEVICE_CLASS_CODES, type DeviceClassName, ExecutorChain, type JobSpec, KernelExecutor, OnnxExecutor, nodeName,
} from '@compotastic/orchestrator';
import { type Io, processIo, reportingTypedErrors, runIfScript } from '@compotastic/orchestrator/cli-support';
import { type DeviceTransport, ReconnectingMeshLink, defaultFallbackPortnum } from '@compotastic/orchestrator/meshtastic';
import { OTA_PORTNUM } from '@compotastic/ota';
import { controlRequest, findControlSocket, serveControl } from './control.js';
import { randomGemmJob } from './gemm-job.js';
import { NodeError } from './node-error.js';
import { defaultStateDir } from './paths.js';
import { CompotasticNode, type NodeStatus } from './core/runtime.js';
import { nodeStorage } from './node-storage.js';
import { NodeState } from './state.js';
import { joinSwarm } from './swarm-files.js';
import { swarmCommand } from './swarm-cli.js';
import { formatEvent, renderStatus } from './view.js';

const USAGE = `Usage: compotastic <command> [options]      (compotastic <command> --help for its options)

  node      join a mesh through a Meshtastic radio (TCP or USB serial) as a compute node, with OTA and saved state
  submit    hand a job to a running node (through its local control socket) and print the outcome
  publish   roll a signed bundle, or a model version as tailored bundles, out from a running node
  status    show a running node's state: image, peers, jobs, OTA
  swarm     create a swarm (operator key), admit a node to it, revoke one

Simulated swarms are compotastic-swarm's (@compotastic/swarm, pnpm swarm); a simulated mesh to join is pnpm sim -- --serve.
`;

const NODE_USAGE = `Usage:
  compotastic node --tcp <host[:port]> [options]     a node's TCP API, or meshtasticd (default port ${MESHTASTIC_TCP_PORT})
  compotastic node --serial <path> [--baud N] [...]  a radio on USB serial (/dev/ttyUSB0, /dev/ttyACM0, COM3)

Options (exactly one of --tcp and --serial):
  --baud N              serial speed with --serial (default ${MESHTASTIC_SERIAL_BAUD}, the firmware's)
  --state DIR           the node's state directory (default ~/.compotastic/<node id>): identity keys, jobs in flight,
                        OTA progress, the device image with its A/B slots; the control socket is DIR/control.sock
  --json                JSON lines on stdout (events, then the status every 10 s) instead of the live view
  --trust HEX           also install bundles signed by this Ed25519 public key (64 hex digits; repeatable)
  --port N              Meshtastic port of the compute layer (default 256, PRIVATE_APP)
  --ota-port N          Meshtastic port for OTA transfers (default ${OTA_PORTNUM})
  --fallback-port N|none  where the radio's rebroadcast mode drops --port (a 2.6 router or repeater), speak on this
                        port instead; peers answer there (default 287, 288 when --port is 287)
  --device-class C      ${DEVICE_CLASS_CODES.join(' | ')} (default laptop)
  --ram-mb M            memory offered to jobs (default half of the free memory)
  --battery-pct P       host battery level (default: external power)
  --no-accept           take no work: only advertise, submit and publish
  --no-onnx             do not run int32 GEMMs through onnxruntime-web
  --seed S              seed for ids and jitter (default: from the node number)
  --swarm DIR           admit only peers certified by this swarm (compotastic swarm); this node needs a certificate
  --advert-interval S   full capability advert every S seconds (default 1800; a liveness heartbeat at most every S/3)
`;

const SUBMIT_USAGE = `Usage:
  compotastic submit --gemm MxKxN [--seed S] [options]   a random int8 matrix product (uint8 A, int8 B, int32 out)
  compotastic submit --spec SPEC.json --input FILE [...]   any job spec, with its input bytes

Options:
  --state DIR           the node's state directory (default: the only running node under ~/.compotastic)
  --tag T               the job's label in reports
  --deadline S          seconds the job may take (default the node's, 15 min)
  --out FILE            write the output bytes to FILE
  --save-input FILE     write the input bytes to FILE (with --gemm)
  --json                print the outcome as JSON
`;

const PUBLISH_USAGE = `Usage:
  compotastic publish BUNDLE [options]                   broadcast a signed bundle to the node's direct neighbours
  compotastic publish --model PREFIX --version V [...]   build bundles of an int8 model (PREFIX.int8.json and
                                                         PREFIX.int8.bin) tailored to each receiver, and publish them

Options:
  --state DIR           the node's state directory (default: the only running node under ~/.compotastic)
  --to N[,N...]         receivers (node numbers, decimal or !hex); default: every direct neighbour
  --max-rounds R        repair rounds before silent receivers are given up (default 8)
  --json                print the sender's report as JSON
`;

const STATUS_USAGE = `Usage: compotastic status [--state DIR] [--json]
  Shows a running node's image, radio, peers, jobs and OTA transfers (the live view, once).
`;

function take(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new ConfigError('BAD_OPTION', `${flag} needs a value`);
  return v;
}

function numberArg(flag: string, v: string, min = -Infinity, max = Infinity, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new ConfigError('BAD_OPTION', `${flag} expects ${integer ? 'a whole number' : 'a number'} ${min}..${max}, got "${v}"`);
  }
  return n;
}

/** A node number: decimal, 0x hex, or Meshtastic's !hex. */
export function parseNodeNum(text: string): number {
  const m = /^!([0-9a-f]{1,8})$/i.exec(text) ?? /^0x([0-9a-f]{1,8})$/i.exec(text);
  const n = m ? parseInt(m[1]!, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xfffffffe) throw new ConfigError('BAD_OPTION', `not a node number: "${text}"`);
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

function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

async function node(args: string[], io: Io): Promise<number> {
  if (wantsHelp(args)) {
    io.out(NODE_USAGE);
    return 0;
  }
  let tcp = '';
  let serial = '';
  let baud: number | null = null;
  let stateDir: string | null = null;
  let json = false;
  const trust: Uint8Array[] = [];
  let port = 256;
  let otaPort = OTA_PORTNUM;
  let fallbackPort: number | null | undefined;
  let deviceClass: DeviceClassName = 'laptop';
  let ramMb: number | null = null;
  let battery: number | null = null;
  let accept = true;
  let onnx = true;
  let seed: number | null = null;
  let advertS: number | null = null;
  let swarmDir: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = (): string => take(args, i++, a);
    switch (a) {
      case '--advert-interval': advertS = numberArg(a, v(), 10, 86_400); break;
      case '--tcp': tcp = v(); break;
      case '--serial': serial = v(); break;
      case '--baud': baud = numberArg(a, v(), 1, 4_000_000, true); break;
      case '--state': stateDir = v(); break;
      case '--json': json = true; break;
      case '--trust': {
        const h = v();
        if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new ConfigError('BAD_OPTION', '--trust expects an Ed25519 public key as 64 hex digits');
        trust.push(new Uint8Array(Buffer.from(h, 'hex')));
        break;
      }
      case '--port': port = numberArg(a, v(), 256, 511, true); break;
      case '--ota-port': otaPort = numberArg(a, v(), 256, 511, true); break;
      case '--fallback-port': {
        const f = v();
        fallbackPort = f === 'none' ? null : numberArg(a, f, 256, 511, true);
        break;
      }
      case '--device-class': {
        const c = v();
        if (!(DEVICE_CLASS_CODES as readonly string[]).includes(c)) throw new ConfigError('BAD_OPTION', `--device-class must be one of ${DEVICE_CLASS_CODES.join(', ')}`);
        deviceClass = c as DeviceClassName;
        break;
      }
      case '--ram-mb': ramMb = numberArg(a, v(), 0, 1e7); break;
      case '--battery-pct': battery = numberArg(a, v(), 0, 100); break;
      case '--no-accept': accept = false; break;
      case '--no-onnx': onnx = false; break;
      case '--seed': seed = numberArg(a, v(), 0, 0xffffffff, true); break;
      case '--swarm': swarmDir = v(); break;
      default:
        throw new ConfigError('BAD_OPTION', `unknown option ${a} (compotastic node --help)`);
    }
  }
  if (port === otaPort) throw new ConfigError('BAD_OPTION', '--port and --ota-port must differ');
  const fallbackPortnum = fallbackPort === undefined ? defaultFallbackPortnum(port) : fallbackPort;
  if (fallbackPortnum !== null && (fallbackPortnum === port || fallbackPortnum === otaPort)) {
    throw new ConfigError('BAD_OPTION', `the fallback port ${fallbackPortnum} must differ from --port and --ota-port (set --fallback-port N, or none)`);
  }
  const radio = radioOpener({ tcp, serial, baud });
  enableRelaxedSimd();
  const kernel = await loadKernel();
  const kernelWasm = await loadBuildBytes(kernel.build);
  const gops = await measureGops(kernel);
  const clock = new WallClock();
  const log = (s: string): void => io.err(s);
  log(`kernel: ${kernel.build} build, ${gops.toFixed(1)} GOPS measured; connecting to ${radio.name}...\n`);
  // Either transport goes through the same reconnecting link: a reboot, a dropped socket or an unplugged cable alike.
  const link = await ReconnectingMeshLink.connect(radio.open, {
    seed: seed ?? new Prng(Date.now() >>> 0).uint32(),
    portnum: port,
    fallbackPortnum,
    onRouterWarning: (w) => log(`warning: ${w.message}\n`),
    onStatus: (up, detail) => log(`radio ${up ? 'connected' : 'disconnected'}: ${detail}\n`),
  });
  const dir = stateDir ?? defaultStateDir(link.nodeNum);
  let state: NodeState;
  try {
    state = NodeState.open({ dir, nodeNum: link.nodeNum, onWarning: (w) => log(`warning: ${w.message}\n`) });
  } catch (e) {
    await link.close();
    throw e;
  }
  let swarm: ReturnType<typeof joinSwarm> | undefined;
  try {
    swarm = swarmDir === null ? undefined : joinSwarm(swarmDir, link.nodeNum, state.identity.publicKey, () => Date.now() / 1000);
  } catch (e) {
    state.close();
    await link.close();
    throw e;
  }
  const live = !json && io.isTty === true;
  const events: string[] = [];
  const runtime = new CompotasticNode({
    link, storage: nodeStorage(state, (w) => log(`warning: ${w.message}\n`)), kernel, kernelWasm, trustedKeys: trust, otaPort, seed: seed ?? link.nodeNum, swarm,
    host: { clock, batteryPct: () => battery, freeRamKiB: () => Math.floor((ramMb ?? freemem() / 2 / 1048576) * 1024) },
    executors: [onnx ? new ExecutorChain([new OnnxExecutor(), new KernelExecutor(kernel)]) : new KernelExecutor(kernel)],
    capabilities: {
      deviceClass, accelerators: [], precisions: ['int8', 'fp32'], onnxRuntime: onnx, kernelBuild: kernel.build, acceptsJobs: accept,
      externalPower: battery === null, portBlocked: false, links: { ble: false, wifi: false },
      modelFamilies: ['gemm', 'gemv', ...(onnx ? (['onnx-graph'] as const) : [])], freeRamKiB: Math.floor((ramMb ?? freemem() / 2 / 1048576) * 1024), gops,
      firmwareVersion: /^\d+\.\d+\.\d+/.test(link.firmware) ? link.firmware : '0.0.0', computeDrainPctPerHour: 0,
    },
    config: {
      portnum: port, startJitterMs: 5000,
      ...(advertS === null ? {} : { advertIntervalMs: advertS * 1000, heartbeatIntervalMs: Math.max(10_000, (advertS * 1000) / 3) }),
    },
    onEvent: (e) => {
      const line = formatEvent(e, json, Date.now());
      if (live) {
        events.push(line);
        if (events.length > 6) events.shift();
      } else io.out(line);
    },
  });
  const control = await serveControl(runtime, dir);
  runtime.start();
  const status = runtime.status();
  io.out(formatEvent({ type: 'node_started', node: status.id, num: status.num, stateDir: dir, control: control.path, publicKey: status.publicKey, image: status.image }, json, Date.now()));
  if (!json) log(`node ${nodeName(link.nodeNum)} is advertising on port ${port}, OTA on ${otaPort}; state in ${dir}; Ctrl-C to leave\n`);
  const timer = setInterval(() => {
    if (live) io.out(`\x1b[H\x1b[2J${renderStatus(runtime.status())}\nrecent events\n${events.join('')}`);
    else if (json) io.out(`${JSON.stringify({ t: Date.now(), type: 'status', ...runtime.status() })}\n`);
  }, live ? 1000 : 10_000);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(timer);
  runtime.close();
  await control.close();
  await link.close();
  state.close();
  return 0;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new NodeError('BAD_FILE', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function submit(args: string[], io: Io): Promise<number> {
  if (wantsHelp(args)) {
    io.out(SUBMIT_USAGE);
    return 0;
  }
  let stateDir: string | null = null;
  let gemm = '';
  let seed = 1;
  let specFile = '';
  let inputFile = '';
  let tag: string | undefined;
  let deadlineS: number | undefined;
  let out = '';
  let saveInput = '';
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = (): string => take(args, i++, a);
    switch (a) {
      case '--state': stateDir = v(); break;
      case '--gemm': gemm = v(); break;
      case '--seed': seed = numberArg(a, v(), 0, 0xffffffff, true); break;
      case '--spec': specFile = v(); break;
      case '--input': inputFile = v(); break;
      case '--tag': tag = v(); break;
      case '--deadline': deadlineS = numberArg(a, v(), 1, 86_400); break;
      case '--out': out = v(); break;
      case '--save-input': saveInput = v(); break;
      case '--json': json = true; break;
      default:
        throw new ConfigError('BAD_OPTION', `unknown option ${a} (compotastic submit --help)`);
    }
  }
  let spec: JobSpec;
  let input: Uint8Array;
  if (gemm) {
    if (specFile || inputFile) throw new ConfigError('BAD_OPTION', '--gemm takes no --spec or --input');
    ({ spec, input } = randomGemmJob(gemm, seed));
    if (saveInput) writeFileSync(saveInput, input);
  } else {
    if (!specFile || !inputFile) throw new ConfigError('BAD_OPTION', 'submit needs --gemm MxKxN, or --spec FILE and --input FILE');
    try {
      spec = JSON.parse(Buffer.from(readFile(specFile, 'job spec')).toString('utf8')) as JobSpec;
    } catch (e) {
      if (e instanceof NodeError) throw e;
      throw new NodeError('BAD_FILE', `${specFile} is not JSON`);
    }
    input = readFile(inputFile, 'input');
  }
  const socket = findControlSocket(stateDir);
  const outcome = (await controlRequest(socket, 'POST', '/jobs', {
    spec, input: Buffer.from(input).toString('base64'), ...(tag ? { tag } : {}), ...(deadlineS ? { deadlineS } : {}),
  })) as { status: string; reason: string | null; output: string | null; latencyMs: number; workers: number[]; plan: string; id: number; tag: string };
  const output = outcome.output ? new Uint8Array(Buffer.from(outcome.output, 'base64')) : null;
  if (out && output) writeFileSync(out, output);
  const sha256 = output ? createHash('sha256').update(output).digest('hex') : null;
  if (json) io.out(`${JSON.stringify({ ...outcome, output: undefined, outputBytes: output?.length ?? 0, outputSha256: sha256 })}\n`);
  else {
    io.out(`job ${outcome.tag} (${outcome.id}): ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''} in ${(outcome.latencyMs / 1000).toFixed(1)} s, plan ${outcome.plan}, ` +
      `workers ${outcome.workers.map(nodeName).join(', ') || '-'}${output ? `; ${output.length} output bytes, sha256 ${sha256}` : ''}\n`);
  }
  return outcome.status === 'done' ? 0 : 2;
}

async function publish(args: string[], io: Io): Promise<number> {
  if (wantsHelp(args)) {
    io.out(PUBLISH_USAGE);
    return 0;
  }
  let stateDir: string | null = null;
  let bundle = '';
  let model = '';
  let version: number | null = null;
  let targets: number[] | undefined;
  let maxRounds: number | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const v = (): string => take(args, i++, a);
    switch (a) {
      case '--state': stateDir = v(); break;
      case '--model': model = v(); break;
      case '--version': version = numberArg(a, v(), 1, 0xffff, true); break;
      case '--to': targets = v().split(',').map(parseNodeNum); break;
      case '--max-rounds': maxRounds = numberArg(a, v(), 1, 100, true); break;
      case '--json': json = true; break;
      default:
        if (a.startsWith('--') || bundle) throw new ConfigError('BAD_OPTION', `unexpected ${a} (compotastic publish --help)`);
        bundle = a;
    }
  }
  if (!!bundle === !!model) throw new ConfigError('BAD_OPTION', 'publish takes a BUNDLE file, or --model PREFIX with --version V');
  if (model && version === null) throw new ConfigError('BAD_OPTION', '--model needs --version V');
  const socket = findControlSocket(stateDir);
  const common = { ...(targets ? { targets } : {}), ...(maxRounds ? { maxRounds } : {}) };
  const report = model
    ? await controlRequest(socket, 'POST', '/publish-model', {
      config: Buffer.from(readFile(`${model}.int8.json`, 'model config')).toString('base64'),
      weights: Buffer.from(readFile(`${model}.int8.bin`, 'model weights')).toString('base64'), version, ...common,
    })
    : await controlRequest(socket, 'POST', '/publish', { bundle: Buffer.from(readFile(bundle, 'bundle')).toString('base64'), ...common });
  const reports = model ? (report as { bundles: Array<{ report: SenderLike }> }).bundles.map((b) => b.report) : [report as SenderLike];
  if (json) io.out(`${JSON.stringify(report)}\n`);
  else {
    for (const r of reports) {
      io.out(`publish ${r.complete ? 'complete' : 'incomplete'} after ${r.rounds} rounds, ${(r.airtimeMs / 1000).toFixed(1)} s airtime\n`);
      for (const x of r.receivers) io.out(`  ${nodeName(x.node)} ${x.state}${x.reason && x.reason !== 'NONE' ? ` (${x.reason})` : ''}\n`);
    }
  }
  return reports.every((r) => r.complete) ? 0 : 2;
}

interface SenderLike {
  complete: boolean;
  rounds: number;
  airtimeMs: number;
  receivers: Array<{ node: number; state: string; reason: string }>;
}

async function status(args: string[], io: Io): Promise<number> {
  if (wantsHelp(args)) {
    io.out(STATUS_USAGE);
    return 0;
  }
  let stateDir: string | null = null;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--state') stateDir = take(args, i++, a);
    else if (a === '--json') json = true;
    else throw new ConfigError('BAD_OPTION', `unknown option ${a} (compotastic status --help)`);
  }
  const s = (await controlRequest(findControlSocket(stateDir), 'GET', '/status')) as NodeStatus;
  io.out(json ? `${JSON.stringify(s)}\n` : renderStatus(s));
  return 0;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv.filter((a) => a !== '--');
  return reportingTypedErrors(io, async () => {
    switch (command) {
      case 'node': return node(rest, io);
      case 'submit': return submit(rest, io);
      case 'publish': return publish(rest, io);
      case 'status': return status(rest, io);
      case 'swarm': return swarmCommand(rest, io, take);
      default:
        io.out(USAGE);
        return command === undefined || command === '--help' || command === '-h' || command === 'help' ? 0 : 1;
    }
  });
}

runIfScript(import.meta.url, (argv) => main(argv));
