#!/usr/bin/env node
import { constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runRealtime } from './client/realtime.js';
import { SimError } from './errors.js';
import { listBuiltinScenarios, loadScenario } from './node/files.js';
import { startSerialServers, type SerialServers } from './node/serial-server.js';
import { startTcpServers, type TcpServers } from './node/tcp-server.js';
import { renderSummaryHtml, renderSummarySvg } from './output/plot.js';
import { simulationProgress } from './output/progress.js';
import type { SimSummary } from './output/stats.js';
import { JsonlTrace, runHeader } from './output/trace.js';
import { resolveScenario, validateScenario } from './scenario.js';
import { SCENARIO_ARGS_USAGE, parseScenarioArgs, type ScenarioArgs } from './scenario-args.js';
import { Simulation } from './simulation.js';

const USAGE = `Usage: pnpm sim --scenario <name|file.json> [options]

Scenarios: ${'{names}'}
${SCENARIO_ARGS_USAGE}
Output and running:
  --trace FILE            JSONL trace of every event
  --summary FILE          summary as JSON
  --plot FILE             summary plot: an HTML page (.html) or an SVG image (.svg)
  --json                  print the summary as JSON (the lines saying where each output went go to stderr)
  --serve [PORT]          real time, each node's client API on 127.0.0.1:PORT+i (default 4403)
  --serve-serial NODE[=PATH][,NODE[=PATH]...]
                          real time, these nodes' client API on pseudo-terminals, opened like a radio's
                          USB serial (compotastic node --serial PATH). NODE is an index, a name, !hex or
                          all; PATH defaults to ${'{ttydir}'}/tty-NAME. Needs socat.
  --speed X               simulated seconds per wall second with --serve/--serve-serial (default 1)
  --quiet                 no progress bar
  --list                  list built-in scenarios
  --help                  this text
`;

interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  isTty: boolean;
}

interface ParsedArgs extends ScenarioArgs {
  trace?: string;
  summary?: string;
  plot?: string;
  json: boolean;
  quiet: boolean;
  list: boolean;
  help: boolean;
  serve?: number;
  serveSerial?: string;
  speed: number;
}

/** The scenario flags (shared with every command that runs a scenario) plus the simulator's output options. */
export function parseArgs(argv: string[]): ParsedArgs {
  const own: Omit<ParsedArgs, keyof ScenarioArgs> = { json: false, quiet: false, list: false, help: false, speed: 1 };
  const scenario = parseScenarioArgs(argv, (a) => {
    switch (a.flag) {
      case '--trace':
        own.trace = a.value();
        return true;
      case '--summary':
        own.summary = a.value();
        return true;
      case '--plot':
        own.plot = a.value();
        if (!/\.(html?|svg)$/i.test(own.plot)) {
          throw new SimError('INVALID_ARGUMENT', `--plot writes an HTML page (.html) or an SVG image (.svg), got "${own.plot}"`);
        }
        return true;
      case '--json':
        own.json = true;
        return true;
      case '--quiet':
      case '-q':
        own.quiet = true;
        return true;
      case '--list':
        own.list = true;
        return true;
      case '--help':
      case '-h':
        own.help = true;
        return true;
      case '--serve':
        own.serve = Number(a.optional(/^\d+$/) ?? 4403);
        return true;
      case '--serve-serial':
        own.serveSerial = a.value();
        return true;
      case '--speed':
        own.speed = a.number({ min: Number.MIN_VALUE });
        return true;
      default:
        return false;
    }
  });
  return { ...scenario, ...own };
}

export function formatSummary(s: SimSummary): string {
  const lines = [
    `scenario       ${s.scenario} (seed ${s.seed}, ${s.nodes} nodes, ${s.preset}, ${s.region}, ${s.durationS} s simulated)`,
    `messages       ${s.messages}  (direct ${s.directMessages.sent}, delivered ${s.directMessages.delivered} = ${s.directMessages.deliveredPct}%)`,
    `reachability   ${s.reachabilityPct}%`,
    `usefulness     ${s.usefulnessPct}%`,
    `transmissions  ${s.transmissions}  receptions ${s.receptions}  collisions ${s.collisions}`,
    `delay          mean ${s.delayMs.mean} ms  p50 ${s.delayMs.p50} ms  p95 ${s.delayMs.p95} ms  max ${s.delayMs.max} ms`,
    `channel util   mean ${s.channelUtilizationPct.mean}%  max ${s.channelUtilizationPct.max}%`,
    `airtime        total TX ${(s.airtime.totalTxMs / 1000).toFixed(1)} s, mean ${(s.airtime.meanTxPerNodeMs / 1000).toFixed(2)} s per node`,
    `drops          ${Object.entries(s.drops).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`,
    `acks           ${Object.entries(s.acks).map(([k, v]) => `${k}=${v}`).join(' ') || 'none'}`,
    `nodes up       ${s.nodesUpAtEnd}/${s.nodes}`,
    `events         ${s.events}`,
  ];
  if (Object.keys(s.appEvents).length) lines.push(`app events     ${Object.entries(s.appEvents).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Where --serve-serial puts a node's pty unless told otherwise. */
export const DEFAULT_TTY_DIR = join(tmpdir(), 'compotastic-sim');

/** `--serve-serial` value: NODE[=PATH] items, comma separated; NODE is an index, a name, !hex or `all`. */
export function parseSerialSpec(sim: Simulation, spec: string, ttyDir = DEFAULT_TTY_DIR): Map<number, string> {
  const out = new Map<number, string>();
  const defaultPath = (name: string): string => join(ttyDir, `tty-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  for (const item of spec.split(',')) {
    const eq = item.indexOf('=');
    const ref = (eq < 0 ? item : item.slice(0, eq)).trim();
    const path = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (!ref || path === '') throw new SimError('INVALID_ARGUMENT', `--serve-serial expects NODE[=PATH][,NODE[=PATH]...], got "${spec}"`);
    if (ref === 'all') {
      if (path) throw new SimError('INVALID_ARGUMENT', '--serve-serial all takes no path');
      for (const n of sim.nodes) out.set(n.num, defaultPath(n.name));
      continue;
    }
    const hex = /^!([0-9a-f]{1,8})$/i.exec(ref);
    const node = /^\d+$/.test(ref) ? sim.resolveNode(Number(ref)) : hex ? sim.requireNode(parseInt(hex[1] as string, 16)) : sim.resolveNode(ref);
    if (out.has(node.num)) throw new SimError('INVALID_ARGUMENT', `--serve-serial names node ${node.name} twice`);
    out.set(node.num, path ?? defaultPath(node.name));
  }
  return out;
}

/** Makes the folder of an output file and checks it can be written, so a bad path is refused before the run. */
async function ensureWritableDir(flag: string, file: string): Promise<void> {
  const dir = dirname(resolve(file));
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new SimError('OUTPUT_FAILED', `${flag} ${file}: cannot write there (${(e as Error).message})`);
  }
}

/** Opens the trace before the run: a path that cannot be written is refused now, not after the run. */
function openTrace(file: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (e) {
    throw new SimError('OUTPUT_FAILED', `--trace ${file}: cannot write there (${(e as Error).message})`);
  }
  return createWriteStream('', { fd });
}

/** Mistakes in what the user asked for (exit code 2), as against a failure while running or writing (1). */
const USAGE_ERRORS = new Set(['INVALID_ARGUMENT', 'INVALID_SCENARIO', 'INVALID_OVERRIDE', 'UNKNOWN_SCENARIO']);

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), isTty: !!process.stderr.isTTY }): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n`);
    return 2;
  }
  const names = listBuiltinScenarios();
  if (args.help || (!args.scenario && !args.list)) {
    io.out(USAGE.replace('{names}', names.join(', ')).replace('{ttydir}', DEFAULT_TTY_DIR));
    return args.help ? 0 : 2;
  }
  if (args.list) {
    for (const n of names) {
      const s = await loadScenario(n);
      io.out(`${n.padEnd(24)} ${s.description ?? ''}\n`);
    }
    return 0;
  }
  let traceStream: WriteStream | undefined;
  let traceError: Error | undefined;
  let traceRecords = 0;
  try {
    const base = await loadScenario(args.scenario as string);
    // NodeInfo announcements, which attached clients build their node list from, are on by default (the firmware's).
    const config = validateScenario(base, args.overrides);
    let trace: JsonlTrace | undefined;
    if (args.summary) await ensureWritableDir('--summary', args.summary);
    if (args.plot) await ensureWritableDir('--plot', args.plot);
    if (args.trace) {
      await ensureWritableDir('--trace', args.trace);
      traceStream = openTrace(args.trace);
      const stream = traceStream;
      // A write that fails later (a full disk) ends the stream; it is reported after the run, never as a crash.
      stream.on('error', (e) => (traceError ??= e));
      trace = new JsonlTrace((line) => {
        traceRecords++;
        stream.write(line);
      });
    }
    const resolved = resolveScenario(config);
    trace?.sink(runHeader(resolved, args.seed));
    const sim = new Simulation(resolved, { seed: args.seed, trace: trace?.sink, onProgress: args.quiet ? undefined : simulationProgress({ write: io.err, isTty: io.isTty }) });
    if (args.serve !== undefined || args.serveSerial !== undefined) {
      let servers: TcpServers | undefined;
      let serial: SerialServers | undefined;
      try {
        if (args.serve !== undefined) {
          servers = await startTcpServers(sim, { basePort: args.serve });
          const first = [...servers.ports.entries()].slice(0, 5).map(([num, port]) => `!${num.toString(16)} -> 127.0.0.1:${port}`);
          io.err(`serving ${servers.ports.size} nodes (${first.join(', ')}${servers.ports.size > 5 ? ', ...' : ''}) at ${args.speed}x real time\n`);
        }
        if (args.serveSerial !== undefined) {
          // With --serve too, the pty bridges to the node's TCP server: one client session slot per node either way.
          serial = await startSerialServers(sim, { nodes: parseSerialSpec(sim, args.serveSerial), tcp: servers, onError: (e) => io.err(`error: ${e.message}\n`) });
          for (const [num, path] of serial.paths) io.err(`serial: ${sim.requireNode(num).name} (!${num.toString(16)}) -> ${path}\n`);
          io.err(`serving ${serial.paths.size} node${serial.paths.size === 1 ? '' : 's'} on pseudo-terminals at ${args.speed}x real time\n`);
        }
        const run = runRealtime(sim, { speed: args.speed });
        const stop = () => run.stop();
        // SIGTERM too: killed by default, the process would leave socat children and their pty links behind.
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await run.done;
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      } finally {
        await serial?.close();
        await servers?.close();
      }
    } else {
      sim.run();
    }
    const summary = sim.summary();
    const written: string[] = [];
    if (traceStream) {
      const stream = traceStream;
      await new Promise<void>((res, rej) => stream.end((err?: Error | null) => (err ? rej(err) : res())));
      traceStream = undefined;
      if (traceError) throw new SimError('OUTPUT_FAILED', `--trace ${args.trace}: writing failed (${traceError.message})`);
      written.push(`trace          ${resolve(args.trace as string)} (${traceRecords} records)`);
    }
    if (args.summary) {
      await writeFile(args.summary, JSON.stringify(summary, null, 2) + '\n');
      written.push(`summary        ${resolve(args.summary)}`);
    }
    if (args.plot) {
      await writeFile(args.plot, /\.svg$/i.test(args.plot) ? renderSummarySvg(summary) : renderSummaryHtml(summary));
      written.push(`plot           ${resolve(args.plot)}`);
    }
    const where = written.map((l) => `${l}\n`).join('');
    if (args.json) {
      io.out(JSON.stringify(summary, null, 2) + '\n');
      io.err(where);
    } else io.out(formatSummary(summary) + where);
    return 0;
  } catch (e) {
    traceStream?.destroy();
    if (e instanceof SimError || (e instanceof Error && 'code' in e)) {
      io.err(`error: ${(e as Error).message}\n`);
      return e instanceof SimError && USAGE_ERRORS.has(e.code) ? 2 : 1;
    }
    throw e;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
