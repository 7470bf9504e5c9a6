#!/usr/bin/env node
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runRealtime } from './client/realtime.js';
import { SimError } from './errors.js';
import { listBuiltinScenarios, loadScenario } from './node/files.js';
import { startTcpServers } from './node/tcp-server.js';
import { renderSummaryHtml, renderSummarySvg } from './output/plot.js';
import type { SimSummary } from './output/stats.js';
import { JsonlTrace } from './output/trace.js';
import { applyOverrides, parseDurationMs } from './scenario.js';
import { Simulation } from './simulation.js';

const USAGE = `Usage: pnpm sim --scenario <name|file.json> [options]

Scenario: ${'{names}'}
Options:
  --nodes N               generated node count              --seed S           random seed
  --duration D            e.g. 90s, 30m, 1h                 --preset NAME      modem preset (LONG_FAST ...)
  --region NAME           US, EU_868, EU_433, UA_868 ...    --hop-limit N      default hop limit (0..7)
  --area WxH              area in metres, e.g. 5000x5000    --path-loss MODEL  log-distance | urban | 3gpp-suburban-macro | 3gpp-urban-macro | free-space
  --gamma G               path loss exponent                --sigma DB         per-link shadowing
  --extra-loss DB         extra loss on every link          --latency-ms MS    client API latency
  --processing-ms MS      per-packet processing delay       --churn-per-hour X drop-outs per node per hour
  --mean-down-s S         mean down time after a drop-out   --battery on|off   battery model
  --battery-mah MAH       battery capacity                  --battery-pct P    initial charge
  --set path=value        any scenario field (repeatable), e.g. --set pathLoss.d0M=40
  --trace FILE            JSONL trace of every event        --summary FILE     summary as JSON
  --plot FILE             summary plot (.html or .svg)      --json             print the summary as JSON
  --serve [PORT]          real time, each node's client API on 127.0.0.1:PORT+i (default 4403)
  --speed X               simulated seconds per wall second with --serve (default 1)
  --quiet                 no progress bar                   --list             list built-in scenarios
`;

interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  isTty: boolean;
}

interface ParsedArgs {
  scenario?: string;
  seed?: number;
  overrides: Record<string, unknown>;
  trace?: string;
  summary?: string;
  plot?: string;
  json: boolean;
  quiet: boolean;
  list: boolean;
  help: boolean;
  serve?: number;
  speed: number;
}

function need(args: string[], i: number, flag: string): string {
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new SimError('INVALID_ARGUMENT', `${flag} needs a value`);
  return v;
}

function number(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new SimError('INVALID_ARGUMENT', `${flag} expects a number, got "${v}"`);
  return n;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const args = argv.filter((a) => a !== '--');
  const p: ParsedArgs = { overrides: {}, json: false, quiet: false, list: false, help: false, speed: 1 };
  const o = p.overrides;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.includes('=') && a.startsWith('--') && !a.startsWith('--set=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = need(args, i, flag);
      i++;
      return v;
    };
    switch (flag) {
      case '--scenario':
      case '-s':
        p.scenario = value();
        break;
      case '--seed':
        p.seed = number(flag, value());
        break;
      case '--nodes':
        o['nodes.count'] = number(flag, value());
        break;
      case '--duration': {
        const d = value();
        parseDurationMs(d, '--duration');
        o.duration = d;
        break;
      }
      case '--preset':
        o.preset = value();
        break;
      case '--region':
        o.region = value();
        break;
      case '--hop-limit':
        o.hopLimit = number(flag, value());
        break;
      case '--area': {
        const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(value());
        if (!m) throw new SimError('INVALID_ARGUMENT', '--area expects WxH in metres, e.g. 3000x3000');
        o['area.widthM'] = Number(m[1]);
        o['area.heightM'] = Number(m[2]);
        break;
      }
      case '--path-loss':
        o['pathLoss.model'] = value();
        break;
      case '--gamma':
        o['pathLoss.gamma'] = number(flag, value());
        break;
      case '--sigma':
        o['pathLoss.sigmaDb'] = number(flag, value());
        break;
      case '--extra-loss':
        o.extraLossDb = number(flag, value());
        break;
      case '--latency-ms':
        o['latency.clientMs'] = number(flag, value());
        break;
      case '--processing-ms':
        o['latency.processingMs'] = number(flag, value());
        break;
      case '--churn-per-hour':
        o['availability.churnPerHour'] = number(flag, value());
        break;
      case '--mean-down-s':
        o['availability.meanDownS'] = number(flag, value());
        break;
      case '--battery': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new SimError('INVALID_ARGUMENT', '--battery expects on or off');
        o['battery.enabled'] = v === 'on';
        break;
      }
      case '--battery-mah':
        o['battery.capacityMah'] = number(flag, value());
        o['battery.enabled'] = true;
        break;
      case '--battery-pct':
        o['battery.initialPct'] = number(flag, value());
        o['battery.enabled'] = true;
        break;
      case '--set': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq <= 0) throw new SimError('INVALID_ARGUMENT', `--set expects path=value, got "${v}"`);
        o[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case '--trace':
        p.trace = value();
        break;
      case '--summary':
        p.summary = value();
        break;
      case '--plot':
        p.plot = value();
        break;
      case '--json':
        p.json = true;
        break;
      case '--quiet':
      case '-q':
        p.quiet = true;
        break;
      case '--list':
        p.list = true;
        break;
      case '--help':
      case '-h':
        p.help = true;
        break;
      case '--serve': {
        const next = inline ?? args[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) {
          p.serve = Number(next);
          if (inline === undefined) i++;
        } else p.serve = 4403;
        break;
      }
      case '--speed':
        p.speed = number(flag, value());
        if (p.speed <= 0) throw new SimError('INVALID_ARGUMENT', '--speed must be positive');
        break;
      default:
        throw new SimError('INVALID_ARGUMENT', `unknown option "${a}" (see --help)`);
    }
  }
  return p;
}

function fmtTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

function progressBar(io: CliIo): (simMs: number, durationMs: number) => void {
  let lastPct = -1;
  return (simMs, durationMs) => {
    const pct = Math.min(100, Math.floor((simMs / durationMs) * 100));
    if (io.isTty) {
      if (pct === lastPct) return;
      const filled = Math.round(pct / 4);
      io.err(`\r[${'#'.repeat(filled)}${'-'.repeat(25 - filled)}] ${String(pct).padStart(3)}% ${fmtTime(simMs)}/${fmtTime(durationMs)}`);
      if (pct === 100) io.err('\n');
    } else if (pct >= lastPct + 10 || (pct === 100 && lastPct !== 100)) {
      io.err(`progress ${pct}% (${fmtTime(simMs)}/${fmtTime(durationMs)})\n`);
    } else return;
    lastPct = pct;
  };
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

async function ensureDir(file: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), isTty: !!process.stderr.isTTY }): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n`);
    return 2;
  }
  const names = listBuiltinScenarios();
  if (args.help || (!args.scenario && !args.list)) {
    io.out(USAGE.replace('{names}', names.join(', ')));
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
  try {
    const base = await loadScenario(args.scenario as string);
    const config = applyOverrides(base, args.overrides);
    let trace: JsonlTrace | undefined;
    if (args.trace) {
      await ensureDir(args.trace);
      traceStream = createWriteStream(args.trace);
      const stream = traceStream;
      trace = new JsonlTrace((line) => stream.write(line));
    }
    const sim = new Simulation(config, { seed: args.seed, trace: trace?.sink, onProgress: args.quiet ? undefined : progressBar(io) });
    if (args.serve !== undefined) {
      const servers = await startTcpServers(sim, { basePort: args.serve });
      const first = [...servers.ports.entries()].slice(0, 5).map(([num, port]) => `!${num.toString(16)} -> 127.0.0.1:${port}`);
      io.err(`serving ${servers.ports.size} nodes (${first.join(', ')}${servers.ports.size > 5 ? ', ...' : ''}) at ${args.speed}x real time\n`);
      const run = runRealtime(sim, { speed: args.speed });
      const stop = () => run.stop();
      process.once('SIGINT', stop);
      await run.done;
      process.off('SIGINT', stop);
      await servers.close();
    } else {
      sim.run();
    }
    const summary = sim.summary();
    if (traceStream) {
      const stream = traceStream;
      await new Promise<void>((res, rej) => stream.end((err?: Error | null) => (err ? rej(err) : res())));
      traceStream = undefined;
    }
    if (args.summary) {
      await ensureDir(args.summary);
      await writeFile(args.summary, JSON.stringify(summary, null, 2) + '\n');
    }
    if (args.plot) {
      await ensureDir(args.plot);
      await writeFile(args.plot, args.plot.endsWith('.svg') ? renderSummarySvg(summary) : renderSummaryHtml(summary));
    }
    io.out(args.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummary(summary));
    return 0;
  } catch (e) {
    traceStream?.destroy();
    if (e instanceof SimError || (e instanceof Error && 'code' in e)) {
      io.err(`error: ${(e as Error).message}\n`);
      return 1;
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
