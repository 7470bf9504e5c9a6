// Command-line parsing (pure, so it is tested without running anything).

import { BenchUsageError } from './discover.js';
import type { RunSettings } from './results.js';

export interface CliOptions {
  filters: string[];
  /** Short mode: fewer rounds, shorter timing. */
  short: boolean;
  /** Gate mode: short mode on the gated ratios only; the exit code says whether every gate passed. */
  gate: boolean;
  html: boolean;
  list: boolean;
  help: boolean;
  /** Result files to ratchet gates.json from (no benchmark runs). */
  ratchet: string[] | undefined;
  settings: RunSettings;
}

export const FULL_SETTINGS: RunSettings = { rounds: 5, timeMs: 150, minIterations: 10, warmupMs: 300 };
export const SHORT_SETTINGS: RunSettings = { rounds: 5, timeMs: 80, minIterations: 5, warmupMs: 250 };

export const USAGE = `usage: pnpm bench [suite | suite:case ...] [options]

  suite            run one suite (default: every suite); suite:text runs its cases whose id contains text
  --short          short mode: ${SHORT_SETTINGS.rounds} rounds of ${SHORT_SETTINGS.timeMs} ms instead of ${FULL_SETTINGS.rounds} of ${FULL_SETTINGS.timeMs} ms
  --gate           short mode on the gated ratios only; exits 1 when a gate in bench/gates.json fails
                   (a case whose gate fails is measured again, twice at most, and its best attempt counts)
  --html           also write a self-contained HTML report with charts
  --rounds N       rounds per case (each contender timed once per round)
  --time MS        time budget of one measurement
  --list           list the suites and their cases
  --ratchet FILE.. raise the gates in bench/gates.json from result files (never lowers a gate)
  --help           this text`;

function positiveInt(v: string | undefined, flag: string): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 1) throw new BenchUsageError(`${flag} needs a positive integer`);
  return n;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { filters: [], short: false, gate: false, html: false, list: false, help: false, ratchet: undefined, settings: { ...FULL_SETTINGS } };
  let rounds: number | undefined, time: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--': break;
      case '--short': o.short = true; break;
      case '--gate': o.gate = true; o.short = true; break;
      case '--html': o.html = true; break;
      case '--list': o.list = true; break;
      case '--help': case '-h': o.help = true; break;
      case '--rounds': rounds = positiveInt(argv[++i], a); break;
      case '--time': time = positiveInt(argv[++i], a); break;
      case '--ratchet':
        o.ratchet = [];
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) o.ratchet.push(argv[++i]!);
        if (o.ratchet.length === 0) throw new BenchUsageError('--ratchet needs result files');
        break;
      default:
        if (a.startsWith('-')) throw new BenchUsageError(`unknown option ${a}\n\n${USAGE}`);
        o.filters.push(a);
    }
  }
  o.settings = { ...(o.short ? SHORT_SETTINGS : FULL_SETTINGS) };
  if (rounds !== undefined) o.settings.rounds = rounds;
  if (time !== undefined) o.settings.timeMs = time;
  return o;
}
