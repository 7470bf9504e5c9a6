import { SimError } from './errors.js';
import { parseDurationMs } from './scenario.js';

/** Which scenario to run, its seed, and overrides by dotted path (for `applyOverrides`). */
export interface ScenarioArgs {
  scenario?: string;
  seed?: number;
  overrides: Record<string, unknown>;
}

/** One command-line flag handed to a command's own handler. */
export interface FlagArgument {
  /** The flag as typed, without an inline value ("--trace" for "--trace=out.jsonl"). */
  readonly flag: string;
  /** Its value: inline (--flag=value) or the next argument. Throws SimError INVALID_ARGUMENT when there is none. */
  value(): string;
  /** A number within [min, max] (integers only with `integer`); throws SimError INVALID_ARGUMENT otherwise. */
  number(limits?: NumberLimits): number;
  /** The value only when one follows that matches `pattern` (a flag whose value may be left out). */
  optional(pattern: RegExp): string | undefined;
}

/** A command's own flags: return false for a flag it does not know (the parser then refuses it). */
export type FlagHandler = (arg: FlagArgument) => boolean;

interface NumberLimits {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Help text for the scenario flags, for a command's usage message. */
export const SCENARIO_ARGS_USAGE = `Scenario options (every scenario parameter can be overridden):
  --scenario NAME|FILE    built-in scenario or JSON file
  --seed S                random seed (0..2^32-1)
  --nodes N               generated node count
  --duration D            simulated time, e.g. 90s, 30m, 1h
  --preset NAME           modem preset (LONG_FAST ...)
  --region NAME           US, EU_868, EU_433, UA_868 ...
  --hop-limit N           default hop limit (0..7)
  --area WxH              area in metres, e.g. 5000x5000
  --path-loss MODEL       log-distance | urban | 3gpp-suburban-macro | 3gpp-urban-macro | free-space
  --gamma G               path loss exponent
  --sigma DB              per-link shadowing
  --extra-loss DB         extra loss on every link
  --latency-ms MS         client API latency
  --processing-ms MS      per-packet processing delay
  --churn-per-hour X      drop-outs per churning node per hour
  --churn-fraction F      share of nodes that churn (0..1)
  --mean-down-s S         mean down time after a drop-out
  --battery on|off        battery model
  --battery-mah MAH       battery capacity
  --battery-pct P         initial charge (0..100)
  --start-epoch S         Unix time at t = 0 (default: now)
  --set path=value        any scenario field (repeatable, JSON values parsed), e.g. --set pathLoss.d0M=40
`;

const POSITIVE = { min: Number.MIN_VALUE };
const NON_NEGATIVE = { min: 0 };

/** Scenario flags: what each one sets. A value that fails its limits is refused here, naming the flag. */
const SCENARIO_FLAGS: Record<string, (arg: FlagArgument, into: ScenarioArgs) => void> = {
  '--scenario': (a, p) => void (p.scenario = a.value()),
  '-s': (a, p) => void (p.scenario = a.value()),
  '--seed': (a, p) => void (p.seed = a.number({ min: 0, max: 0xffffffff, integer: true })),
  '--nodes': (a, p) => void (p.overrides['nodes.count'] = a.number({ min: 0, integer: true })),
  '--duration': (a, p) => {
    const d = a.value();
    try {
      parseDurationMs(d, '--duration');
    } catch (e) {
      throw new SimError('INVALID_ARGUMENT', (e as Error).message);
    }
    p.overrides.duration = d;
  },
  '--preset': (a, p) => void (p.overrides.preset = a.value()),
  '--region': (a, p) => void (p.overrides.region = a.value()),
  '--hop-limit': (a, p) => void (p.overrides.hopLimit = a.number({ min: 0, max: 7, integer: true })),
  '--area': (a, p) => {
    const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(a.value());
    if (!m) throw new SimError('INVALID_ARGUMENT', '--area expects WxH in metres, e.g. 3000x3000');
    p.overrides['area.widthM'] = Number(m[1]);
    p.overrides['area.heightM'] = Number(m[2]);
  },
  '--path-loss': (a, p) => void (p.overrides['pathLoss.model'] = a.value()),
  '--gamma': (a, p) => void (p.overrides['pathLoss.gamma'] = a.number(POSITIVE)),
  '--sigma': (a, p) => void (p.overrides['pathLoss.sigmaDb'] = a.number(NON_NEGATIVE)),
  '--extra-loss': (a, p) => void (p.overrides.extraLossDb = a.number()),
  '--latency-ms': (a, p) => void (p.overrides['latency.clientMs'] = a.number(NON_NEGATIVE)),
  '--processing-ms': (a, p) => void (p.overrides['latency.processingMs'] = a.number(NON_NEGATIVE)),
  '--churn-per-hour': (a, p) => void (p.overrides['availability.churnPerHour'] = a.number(NON_NEGATIVE)),
  '--churn-fraction': (a, p) => void (p.overrides['availability.fraction'] = a.number({ min: 0, max: 1 })),
  '--mean-down-s': (a, p) => void (p.overrides['availability.meanDownS'] = a.number(NON_NEGATIVE)),
  '--battery': (a, p) => {
    const v = a.value();
    if (v !== 'on' && v !== 'off') throw new SimError('INVALID_ARGUMENT', '--battery expects on or off');
    p.overrides['battery.enabled'] = v === 'on';
  },
  '--battery-mah': (a, p) => {
    p.overrides['battery.capacityMah'] = a.number(POSITIVE);
    p.overrides['battery.enabled'] = true;
  },
  '--battery-pct': (a, p) => {
    p.overrides['battery.initialPct'] = a.number({ min: 0, max: 100 });
    p.overrides['battery.enabled'] = true;
  },
  '--start-epoch': (a, p) => void (p.overrides.startEpochS = a.number({ min: 0, integer: true })),
  '--set': (a, p) => {
    const v = a.value();
    const eq = v.indexOf('=');
    if (eq <= 0) throw new SimError('INVALID_ARGUMENT', `--set expects path=value, got "${v}"`);
    p.overrides[v.slice(0, eq)] = v.slice(eq + 1);
  },
};

/**
 * Parse command-line arguments: the scenario flags above are handled here, every other flag goes to `other` (a
 * command's own options). "--flag=value" works for every flag; a lone "--" is ignored. Throws SimError
 * INVALID_ARGUMENT, naming the flag, for an unknown flag, a missing value or a value out of range.
 */
export function parseScenarioArgs(argv: readonly string[], other?: FlagHandler): ScenarioArgs {
  const args = argv.filter((a) => a !== '--');
  const parsed: ScenarioArgs = { overrides: {} };
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const arg: FlagArgument = {
      flag,
      value: () => {
        if (inline !== undefined) return inline;
        const v = args[i + 1];
        if (v === undefined || v.startsWith('--')) throw new SimError('INVALID_ARGUMENT', `${flag} needs a value`);
        i++;
        return v;
      },
      number: (limits = {}) => toNumber(flag, arg.value(), limits),
      optional: (pattern) => {
        const v = inline ?? args[i + 1];
        if (v === undefined || !pattern.test(v)) return undefined;
        if (inline === undefined) i++;
        return v;
      },
    };
    const scenarioFlag = Object.prototype.hasOwnProperty.call(SCENARIO_FLAGS, flag) ? SCENARIO_FLAGS[flag] : undefined;
    if (scenarioFlag) scenarioFlag(arg, parsed);
    else if (!other?.(arg)) throw new SimError('INVALID_ARGUMENT', `unknown option "${raw}" (see --help)`);
  }
  return parsed;
}

function toNumber(flag: string, text: string, { min = -Infinity, max = Infinity, integer = false }: NumberLimits): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new SimError('INVALID_ARGUMENT', `${flag} expects a number, got "${text}"`);
  if (integer && !Number.isInteger(n)) throw new SimError('INVALID_ARGUMENT', `${flag} expects a whole number, got "${text}"`);
  if (n < min || n > max) {
    const range = min === Number.MIN_VALUE ? 'above 0' : `${min === -Infinity ? '' : min}..${max === Infinity ? '' : max}`;
    throw new SimError('INVALID_ARGUMENT', `${flag} must be ${range}, got ${text}`);
  }
  return n;
}
