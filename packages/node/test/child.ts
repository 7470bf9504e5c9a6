import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/state-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A child process running the fixture, with its stdout split into complete lines as they arrive. */
export class Child {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  private partial = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<void>;

  constructor(mode: 'hold' | 'write', dir: string) {
    if (!existsSync(dist)) throw new Error('build the package first (pnpm build): the child process runs dist/');
    this.proc = spawn(process.execPath, [script, mode, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.proc.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
      resolve();
    }));
  }

  /** Resolves once `test` holds for the lines so far (rejects if the child exits first). */
  async until(test: (lines: string[]) => boolean): Promise<void> {
    while (!test(this.lines)) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`child exited early: ${this.lines.join(' | ')}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}
