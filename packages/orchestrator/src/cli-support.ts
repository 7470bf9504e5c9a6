// What every Compotastic command-line entry point shares: where its output goes, how a usage or configuration error
// becomes one line and exit code 1 (a bug still shows its stack), and running `main` when the file is the script.
import { pathToFileURL } from 'node:url';
import { OrchestratorError } from './errors.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether err is a terminal: the progress line is only drawn on one. */
  isTty?: boolean;
}

/** The process's own stdout and stderr. */
export function processIo(): Io {
  return {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
    err: (s) => process.stderr.write(s),
    isTty: process.stderr.isTTY === true,
  };
}

/**
 * Runs a command; an error that carries a code (OrchestratorError, ConfigError, or another package's typed error)
 * is reported as `error: message` with exit code 1. Anything else is a bug and propagates.
 */
export async function reportingTypedErrors(io: Io, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof OrchestratorError || (e as { code?: unknown } | null)?.code !== undefined) {
      io.err(`error: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Calls main with the process's arguments and exits with its code, when `moduleUrl` is the script node was given. */
export function runIfScript(moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
