// Command-line options shared by the evaluation scripts.

/** The non-negative integer after `--name`, or `fallback`; exits with status 2 on a bad value. */
export function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} needs a non-negative integer`);
    process.exit(2);
  }
  return v;
}

/** True with `--json`: results go to stdout as JSON and progress to stderr. */
export const json = process.argv.includes('--json');

/** Progress output: stdout normally, stderr under `--json`. */
export const log = (msg: string) => { if (!json) console.log(msg); else process.stderr.write(`${msg}\n`); };
