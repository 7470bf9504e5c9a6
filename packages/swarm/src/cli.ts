#!/usr/bin/env node
import { constants } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, OrchestratorError } from '@compotastic/orchestrator';
import { type Io, processIo, reportingTypedErrors, runIfScript } from '@compotastic/orchestrator/cli-support';
import { JsonlTrace, SimError, runHeader, simulationProgress, validateScenario } from '@compotastic/sim';
import { SCENARIO_ARGS_USAGE, listBuiltinScenarios, loadScenario, parseScenarioArgs } from '@compotastic/sim/node';
import { runSwarm, type SwarmReport } from './swarm.js';
import { type JobTemplate, parseWorkload } from './workload.js';

const USAGE = `Usage: compotastic-swarm --scenario <name|file> [options]
Runs the orchestrator on every node of a simulated swarm and prints what became of the jobs.

Options (the scenario flags are the simulator's, pnpm sim):
${SCENARIO_ARGS_USAGE.replace(/^/gm, '  ').trimEnd()}
  --jobs FILE           job templates (JSON list), replacing the scenario's app.jobs
  --port N              Meshtastic port for the compute layer (default 256)
  --trace FILE          JSONL trace of every radio and application event
  --json                print the report as JSON
  --onnx                laptops and Jetsons use onnxruntime-web
  --no-ble              no BLE links between nodes
  --quiet               no progress (otherwise on stderr: a bar on a terminal, a line every 10 % or 5 s when piped)
  --help                this text
Built-in scenarios: ${'{scenarios}'}
`;

export interface SwarmArgs {
  scenario: string;
  port?: number;
  seed?: number;
  overrides: Record<string, unknown>;
  jobs?: string;
  trace?: string;
  json: boolean;
  onnx: boolean;
  ble: boolean;
  quiet: boolean;
}

/** The simulator's scenario flags (identical to pnpm sim's) plus the swarm's own; errors are ConfigError BAD_OPTION. */
export function parseSwarmArgs(args: string[]): SwarmArgs {
  const own = { json: false, onnx: false, ble: true, quiet: false } as Omit<SwarmArgs, 'scenario' | 'seed' | 'overrides'>;
  let scenario: { scenario?: string; seed?: number; overrides: Record<string, unknown> };
  try {
    scenario = parseScenarioArgs(args, (a) => {
      switch (a.flag) {
        case '--jobs':
          own.jobs = a.value();
          return true;
        case '--port':
          own.port = a.number({ min: 256, max: 511, integer: true });
          return true;
        case '--trace':
          own.trace = a.value();
          return true;
        case '--json':
          own.json = true;
          return true;
        case '--onnx':
          own.onnx = true;
          return true;
        case '--no-ble':
          own.ble = false;
          return true;
        case '--quiet':
          own.quiet = true;
          return true;
        default:
          return false;
      }
    });
  } catch (e) {
    if (e instanceof OrchestratorError) throw e;
    throw new ConfigError('BAD_OPTION', (e as Error).message);
  }
  if (!scenario.scenario) throw new ConfigError('BAD_OPTION', 'swarm needs --scenario <name|file>');
  return { ...own, ...scenario, scenario: scenario.scenario };
}

export function formatReport(r: SwarmReport): string {
  const j = r.jobs;
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `scenario ${r.scenario}, seed ${r.seed}, ${r.nodes} nodes, ${r.simulatedS} s simulated`,
    `jobs: ${j.submitted} submitted, ${j.done} done (${pct(j.completionRate)}), ${j.failed} failed, ${j.lost} lost, ${j.ownerOffline} not done because their owner is switched off (it resumes them when it powers up)${j.skipped ? `, ${j.skipped} not submitted (no eligible node up)` : ''}`,
    `failures: ${Object.entries(j.failedByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `latency of finished jobs: p50 ${s(j.latencyMs.p50)}, p90 ${s(j.latencyMs.p90)}, p95 ${s(j.latencyMs.p95)}, p99 ${s(j.latencyMs.p99)}, max ${s(j.latencyMs.max)}, mean ${s(j.latencyMs.mean)}`,
    `plans: ${Object.entries(j.plans).map(([k, v]) => `${k} ${v}`).join(', ')}; ${j.recovered} finished after a reassignment`,
    `results recomputed by the plain-TS reference: ${j.verified}, mismatches ${j.mismatches}`,
    `discovery: ${pct(r.discovery.coverage)} of node pairs know each other at the end`,
    `messages sent: ${Object.entries(r.messages.sent).map(([k, v]) => `${k} ${v}`).join(', ')}; ${r.messages.sendFailures} radio-level failures, ${r.messages.decodeErrors} undecodable`,
    `radio: ${r.radio.transmissions} transmissions, ${r.radio.collisions} collisions, mean channel utilization ${r.radio.channelUtilizationPct}%`,
  ];
  if (r.routerWarnings.length) lines.push(`router warnings: ${r.routerWarnings.length} (first: ${r.routerWarnings[0]?.message})`);
  return lines.join('\n');
}

async function swarm(args: string[], io: Io): Promise<number> {
  const a = parseSwarmArgs(args);
  let scenario;
  try {
    // The simulator's own check, before any work: a misspelled key or --set path is named with its nearest valid one.
    scenario = await loadScenario(a.scenario);
    validateScenario(scenario, a.overrides);
  } catch (e) {
    if (e instanceof SimError) throw new ConfigError('BAD_SCENARIO', e.message);
    throw e;
  }
  let workload: JobTemplate[] | undefined;
  if (a.jobs) {
    const text = await readFile(a.jobs, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError('BAD_SCENARIO', `${a.jobs} is not valid JSON: ${(e as Error).message}`);
    }
    workload = parseWorkload({ jobs: parsed });
  }
  if (a.trace) {
    // Refused now rather than after the run, when the trace is written.
    await access(dirname(resolve(a.trace)), constants.W_OK).catch((e: Error) => {
      throw new ConfigError('BAD_OPTION', `--trace ${a.trace}: cannot write there (${e.message})`);
    });
  }
  const trace = a.trace ? new JsonlTrace() : null;
  const show = a.quiet ? undefined : simulationProgress({ write: io.err, isTty: io.isTty === true });
  let untilMs = 0;
  const { report, sim } = await runSwarm(scenario, {
    seed: a.seed,
    overrides: a.overrides,
    workload,
    onnx: a.onnx,
    ble: a.ble,
    orchestrator: a.port !== undefined ? { portnum: a.port } : undefined,
    trace: trace?.sink,
    onProgress: show && ((t, until) => show(t, (untilMs = until))),
  });
  // The run ends between two progress calls: say it is done.
  show?.(untilMs, untilMs);
  io.out(a.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (trace && a.trace) {
    // The file says what made it: the run header (scenario as the overrides left it, seed, version) first.
    await writeFile(a.trace, JSON.stringify(runHeader(sim.scenario)) + '\n' + trace.text());
    // Where the output went; on stderr with --json so that stdout stays JSON.
    (a.json ? io.err : io.out)(`${a.json ? '' : '\n'}trace: ${resolve(a.trace)} (${trace.lines.length + 1} records)\n`);
  }
  return report.jobs.lost === 0 && report.jobs.mismatches === 0 ? 0 : 2;
}

/** Exit code 0 when no job was lost and every result matched the reference, 2 otherwise, 1 on a usage error. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // `pnpm swarm -- ...` passes the separator through.
  const args = argv.filter((a) => a !== '--');
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    io.out(USAGE.replace('{scenarios}', listBuiltinScenarios().join(', ')));
    return args.length === 0 ? 1 : 0;
  }
  return reportingTypedErrors(io, () => swarm(args, io));
}

runIfScript(import.meta.url, (argv) => main(argv));
