// Where contenders run: in this process (LocalHost) or in a child Node process
// started with extra flags (ChildHost, e.g. --experimental-wasm-relaxed-simd).
// Both expose the same three steps, so the runner interleaves them freely.

import { type ChildProcess, fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { type MeasureOptions, type Sample, measure } from './measure.js';
import { type BenchCase, type Runner, type Suite, type SuiteEnvironment, type Work, SkipContender } from './suite.js';

export interface SetupRequest {
  suiteFile: string;
  caseId: string;
  contenderId: string;
  short: boolean;
  cacheDir: string;
}

export type SetupReply =
  | { status: 'ready'; handle: string; wrong?: string; work?: Work; figure?: number }
  | { status: 'skipped' | 'failed'; reason: string };

export interface ContenderHost {
  setup(req: SetupRequest): Promise<SetupReply>;
  measure(handle: string, options: MeasureOptions): Promise<Sample>;
  dispose(handle: string): Promise<void>;
  close(): Promise<void>;
}

/** SkipContender, or any error carrying its code (suites may be loaded from another copy of this module). */
function isSkip(err: unknown): boolean {
  return err instanceof SkipContender || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SKIP');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs contenders in the current process. */
export class LocalHost implements ContenderHost {
  private readonly cases = new Map<string, Promise<BenchCase[]>>();
  private readonly runners = new Map<string, Runner>();
  private next = 0;

  constructor(private readonly log: (message: string) => void) {}

  /** The suite's cases, built once per process and mode. */
  casesOf(suiteFile: string, env: SuiteEnvironment): Promise<BenchCase[]> {
    const key = `${suiteFile}\n${env.short}`;
    let cases = this.cases.get(key);
    if (!cases) {
      cases = import(pathToFileURL(suiteFile).href).then((m: { default: Suite }) => m.default.cases(env));
      this.cases.set(key, cases);
    }
    return cases;
  }

  async setup(req: SetupRequest): Promise<SetupReply> {
    const env: SuiteEnvironment = { short: req.short, cacheDir: req.cacheDir, log: this.log };
    let runner: Runner | undefined;
    try {
      const c = (await this.casesOf(req.suiteFile, env)).find((x) => x.id === req.caseId);
      const contender = c?.contenders.find((x) => x.id === req.contenderId);
      if (!c || !contender) return { status: 'failed', reason: `no contender '${req.contenderId}' in case '${req.caseId}'` };
      runner = await contender.setup({ log: this.log, short: req.short });
      // One call outside the timing: checks the result and warms up.
      const returned = await runner.run();
      const output = runner.output ? runner.output() : returned;
      const wrong = c.verify ? await c.verify(contender.id, output) : undefined;
      const handle = String(this.next++);
      this.runners.set(handle, runner);
      const reply: SetupReply = { status: 'ready', handle };
      if (wrong) reply.wrong = wrong;
      if (runner.work) reply.work = runner.work;
      if (runner.figure !== undefined) reply.figure = runner.figure;
      return reply;
    } catch (err) {
      await runner?.dispose?.();
      if (isSkip(err)) return { status: 'skipped', reason: (err as Error).message };
      return { status: 'failed', reason: message(err) };
    }
  }

  measure(handle: string, options: MeasureOptions): Promise<Sample> {
    const runner = this.runners.get(handle);
    if (!runner) return Promise.reject(new Error(`unknown contender handle ${handle}`));
    return measure(runner, options);
  }

  async dispose(handle: string): Promise<void> {
    const runner = this.runners.get(handle);
    this.runners.delete(handle);
    await runner?.dispose?.();
  }

  async close(): Promise<void> {
    for (const handle of [...this.runners.keys()]) await this.dispose(handle);
  }
}

// ---------------------------------------------------------------------------
// Child processes

export type ChildRequest =
  | { id: number; op: 'setup'; req: SetupRequest }
  | { id: number; op: 'measure'; handle: string; options: MeasureOptions }
  | { id: number; op: 'dispose'; handle: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type ChildMessage =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string }
  | { log: string };

/** Runs contenders in a child Node process started with `flags`. */
export class ChildHost implements ContenderHost {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 0;
  private exited: string | undefined;

  constructor(
    private readonly workerFile: string,
    readonly flags: readonly string[],
    private readonly log: (message: string) => void,
  ) {}

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = fork(this.workerFile, [], {
      execArgv: [...this.flags],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: ChildMessage) => {
      if ('log' in m) {
        this.log(m.log);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      this.exited = `the child process (node ${this.flags.join(' ')}) exited with ${signal ?? code}`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
      this.child = undefined;
    });
    this.child = child;
    return child;
  }

  private call(request: DistributiveOmit<ChildRequest, 'id'>): Promise<unknown> {
    const child = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...request, id } as ChildRequest);
    });
  }

  async setup(req: SetupRequest): Promise<SetupReply> {
    try {
      return (await this.call({ op: 'setup', req })) as SetupReply;
    } catch (err) {
      return { status: 'failed', reason: message(err) };
    }
  }

  async measure(handle: string, options: MeasureOptions): Promise<Sample> {
    return (await this.call({ op: 'measure', handle, options })) as Sample;
  }

  async dispose(handle: string): Promise<void> {
    if (!this.child) return;
    await this.call({ op: 'dispose', handle });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
    });
  }
}

/** Serves ChildHost requests inside the child process (see worker.ts). */
export function serveChild(): void {
  const send = (m: ChildMessage) => process.send!(m);
  const host = new LocalHost((log) => send({ log }));
  process.on('message', (m: ChildRequest) => {
    const work = m.op === 'setup' ? host.setup(m.req)
      : m.op === 'measure' ? host.measure(m.handle, m.options)
        : host.dispose(m.handle);
    work.then(
      (value) => send({ id: m.id, ok: true, value }),
      (err: unknown) => send({ id: m.id, ok: false, error: message(err) }),
    );
  });
  process.on('disconnect', () => {
    void host.close().finally(() => process.exit(0));
  });
}
