// Progress for long suites, on stderr so stdout stays a clean report. On a
// terminal one status line is rewritten in place; in CI logs each step is a
// line of its own, and the in-between status a line every few seconds at most.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** How often a status becomes a line of its own when the output is not a terminal. */
export const LOG_STATUS_EVERY_MS = 15_000;

export class Progress {
  private shown = false;
  private lastLine: number;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly live = stream.isTTY === true,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastLine = now();
  }

  /** A transient status (replaced by the next one on a terminal, skipped in logs). */
  status(text: string): void {
    if (!this.live) return;
    const width = 118;
    this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.shown = true;
  }

  /** A status that matters in logs too: rewritten in place on a terminal, else a line when none came for a while. */
  tick(text: string): void {
    if (this.live) this.status(text);
    else if (this.now() - this.lastLine >= LOG_STATUS_EVERY_MS) this.line(text);
  }

  /** A line that stays. */
  line(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
    this.lastLine = this.now();
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
