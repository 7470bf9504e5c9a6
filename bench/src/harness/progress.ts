// Progress for long suites, on stderr so stdout stays a clean report. On a
// terminal one status line is rewritten in place; in CI logs each step is a
// line of its own.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class Progress {
  private shown = false;

  constructor(private readonly stream: ProgressStream = process.stderr, private readonly live = stream.isTTY === true) {}

  /** A transient status (replaced by the next one on a terminal, skipped in logs). */
  status(text: string): void {
    if (!this.live) return;
    const width = 118;
    this.stream.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.shown = true;
  }

  /** A line that stays. */
  line(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
