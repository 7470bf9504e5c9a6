// The suite interface. A suite is a module in src/suites/ whose default export
// is a Suite; the harness finds it by itself, so adding a benchmark means adding
// a file. See README.md for a worked example.

/** One prepared contender, ready to be timed. */
export interface Runner {
  /** One call of the measured operation; a returned promise is awaited inside the timing. */
  run(): unknown;
  /** Set when run() returns a promise (tinybench then times the awaited call). */
  async?: boolean;
  /** Frees what setup allocated (Wasm arena, sessions). */
  dispose?(): void | Promise<void>;
  /**
   * The result of the last run(), for verification, when run() itself returns
   * nothing useful (raw exports leave their output in Wasm memory).
   */
  output?(): unknown;
  /** The work per call when it is only known after setup (e.g. a downloaded input); overrides the case's. */
  work?: Work;
  /**
   * In a case with a `figure` (a quantity, not a time): this contender's value, measured in setup (patch bytes,
   * peak bytes of memory) or fixed (a budget). Smaller is better, as with time.
   */
  figure?: number;
}

export interface SetupContext {
  /** Prints a line under the progress display. */
  log(message: string): void;
  /** Short mode (the CI gate): suites may shrink inputs. */
  short: boolean;
}

export interface Contender {
  /** Unique within its case: ratios and gates refer to it (e.g. 'simd', 'ort-web'). */
  id: string;
  /** Ours (the code under test) or a peer we compare against. */
  role: 'ours' | 'peer';
  /** Human-readable name for tables and charts. */
  label?: string;
  /**
   * Node flags this contender needs, such as --experimental-wasm-relaxed-simd.
   * Contenders with flags run in a child process started with them, measured
   * in turn with the others (never at the same time).
   */
  nodeFlags?: string[];
  /** Prepares inputs and state outside the timing. Throw SkipContender when it cannot run on this machine. */
  setup(ctx: SetupContext): Promise<Runner> | Runner;
}

/**
 * Thrown by Contender.setup when the contender is unavailable here (optional
 * dependency missing, offline). Any error with code 'SKIP' counts the same.
 */
export class SkipContender extends Error {
  readonly code = 'SKIP';
}

/** The amount of work one call does, for throughput figures. */
export interface Work {
  /** Arithmetic operations per call (2 per multiply-add), reported as GOPS. */
  ops?: number;
  /** Bytes processed per call, reported as GB/s. */
  bytes?: number;
}

/** A ratio between two contenders of a case: how many times faster `ours` is than `peer`. */
export interface RatioSpec {
  ours: string;
  peer: string;
}

export interface BenchCase {
  /** Unique within the suite, e.g. 'gemv 1x1024x1024'. Gates refer to it. */
  id: string;
  /** Cases are grouped by this in tables and charts (e.g. 'GEMV'). */
  group: string;
  work?: Work;
  contenders: Contender[];
  /** Ratios to report. Default: every ours contender against every peer. */
  ratios?: RatioSpec[];
  /**
   * Checks one contender's output (the value its run() returned, awaited);
   * returns a reason when it is wrong. Wrong contenders are reported and left
   * out of every ratio.
   */
  verify?(contender: string, output: unknown): string | undefined | Promise<string | undefined>;
  /** Why the whole case cannot run here (reported instead of measured). */
  skipped?: string;
  /** A remark printed with the case (e.g. which input it used). */
  note?: string;
  /**
   * Set when the case's time per call is not its result (it measures accuracy or size, stored by describe()):
   * says what it measures, and the reports show that instead of a time.
   */
  untimed?: string;
  /**
   * Set when the case compares a quantity each contender reports in setup (Runner.figure) instead of a time: the
   * unit of that quantity (e.g. 'B'). Nothing is timed; each ratio is figure(peer) / figure(ours), gated like a
   * timing ratio, and a contender that reports no figure fails.
   */
  figure?: string;
  /** Fewer timed calls for slow cases (default: the run's setting). */
  minIterations?: number;
}

/** A gated ratio: `pnpm bench:gate` measures it and fails when it falls below its threshold in gates.json. */
export interface GateSpec extends RatioSpec {
  case: string;
}

export interface SuiteEnvironment {
  short: boolean;
  /** A git-ignored folder for downloaded fixtures (bench/.cache). */
  cacheDir: string;
  log(message: string): void;
}

export interface Suite {
  /** The name used on the command line (`pnpm bench <name>`) and in result files. */
  name: string;
  description: string;
  /**
   * The cases. Called in the main process and again in each child process,
   * so it must give the same ids every time and stay cheap: allocate data in
   * Contender.setup.
   */
  cases(env: SuiteEnvironment): BenchCase[] | Promise<BenchCase[]>;
  /** Ratios this suite wants gated in CI; the thresholds live in bench/gates.json. */
  gates?: GateSpec[];
  /** Facts about what was measured (build flags, versions), stored in the result file; `short` in short mode. */
  describe?(env: { short: boolean }): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** Identity helper that type-checks a suite definition. */
export function defineSuite(suite: Suite): Suite {
  return suite;
}

/** The key of a ratio in results and gates.json: 'gemv 1x1024x1024: simd/ort-web'. */
export function ratioKey(caseId: string, ratio: RatioSpec): string {
  return `${caseId}: ${ratio.ours}/${ratio.peer}`;
}

/** The ratios a case reports. */
export function caseRatios(c: BenchCase): RatioSpec[] {
  if (c.ratios) return c.ratios;
  const ours = c.contenders.filter((x) => x.role === 'ours');
  const peers = c.contenders.filter((x) => x.role === 'peer');
  return ours.flatMap((o) => peers.map((p) => ({ ours: o.id, peer: p.id })));
}
