// Progress of long steps (downloads, unpacking) on stderr, so that `--json` on stdout stays clean. On a terminal:
// one line redrawn in place, with rate and ETA, shared by every step running at the time ("download 43% … |
// unpack 12% …"), each step leaving one summary line when it finishes. In a log (CI, a pipe): a line per 10 %.

/** Where progress goes: process.stderr, or a test's stand-in. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  quiet?: boolean;
  out?: ProgressStream;
  /** Milliseconds; performance.now by default. */
  now?: () => number;
}

/** A terminal redraw at most this often (ms): a download reports every chunk. */
const REDRAW_MS = 100;

/** The steps running on one terminal, drawn together on its last line. */
class StatusLine {
  private readonly active = new Set<Progress>();
  private lastDraw = -Infinity;

  constructor(private readonly out: ProgressStream) {}

  add(p: Progress): void {
    this.active.add(p);
  }

  draw(now: number, force = false): void {
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const text = [...this.active].map((p) => p.status()).join(' | ');
    const width = (this.out.columns ?? 80) - 1;
    this.out.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`);
  }

  /** A line of its own above the status line (which is drawn again below it). */
  print(text: string): void {
    this.out.write(`\r${text}\x1b[K\n`);
    if (this.active.size) this.draw(this.lastDraw, true);
  }

  /** `p` is done: its summary replaces the line, the others are drawn again below it. */
  finish(p: Progress, summary: string): void {
    this.active.delete(p);
    this.print(summary);
  }

  get busy(): boolean {
    return this.active.size > 0;
  }
}

const lines = new WeakMap<ProgressStream, StatusLine>();
function statusLine(out: ProgressStream): StatusLine {
  let line = lines.get(out);
  if (!line) lines.set(out, (line = new StatusLine(out)));
  return line;
}

/** Print a line to `out` without breaking a progress line being drawn there. */
export function printLine(text: string, out: ProgressStream = process.stderr): void {
  const line = out.isTTY ? lines.get(out) : undefined;
  if (line?.busy) line.print(text);
  else out.write(`${text}\n`);
}

export class Progress {
  private readonly out: ProgressStream;
  private readonly now: () => number;
  private readonly quiet: boolean;
  private readonly started: number;
  private done = 0;
  private lastDecile = -1;
  private finished = false;

  constructor(private readonly label: string, private readonly total: number, quietOrOptions: boolean | ProgressOptions = false) {
    const options = typeof quietOrOptions === 'boolean' ? { quiet: quietOrOptions } : quietOrOptions;
    this.out = options.out ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.quiet = Boolean(options.quiet) || total <= 0;
    this.started = this.now();
    if (!this.quiet && this.out.isTTY) statusLine(this.out).add(this);
  }

  update(done: number): void {
    if (this.quiet || this.finished) return;
    this.done = Math.min(done, this.total);
    const now = this.now();
    if (this.out.isTTY) {
      statusLine(this.out).draw(now);
      return;
    }
    const decile = Math.floor((this.done / this.total) * 10);
    // 100 % is the summary line finish() prints.
    if (decile <= this.lastDecile || decile >= 10) return;
    this.lastDecile = decile;
    const rate = this.rate(now);
    this.out.write(`${this.label}: ${String(decile * 10).padStart(3)}% (${mib(this.done)} of ${mib(this.total)} MiB${rate ? `, ${mib(rate)} MiB/s` : ''})\n`);
  }

  finish(): void {
    if (this.quiet || this.finished) return;
    this.finished = true;
    this.done = this.total;
    const now = this.now();
    const seconds = (now - this.started) / 1000;
    const rate = this.rate(now);
    const summary = `${this.label}: 100% (${mib(this.total)} MiB in ${seconds.toFixed(1)} s${rate ? `, ${mib(rate)} MiB/s` : ''})`;
    if (this.out.isTTY) statusLine(this.out).finish(this, summary);
    else this.out.write(`${summary}\n`);
  }

  /** This step on the terminal line: "download  43% 402.1/940.3 MiB 35.2 MiB/s ETA 0:15". */
  status(): string {
    const now = this.now();
    const percent = Math.floor((this.done / this.total) * 100);
    const rate = this.rate(now);
    const eta = rate ? ` ETA ${clock((this.total - this.done) / rate)}` : '';
    return `${this.label} ${String(percent).padStart(3)}% ${mib(this.done)}/${mib(this.total)} MiB${rate ? ` ${mib(rate)} MiB/s` : ''}${eta}`;
  }

  /** Bytes a second since the start, once there is something to go by. */
  private rate(now: number): number | undefined {
    const seconds = (now - this.started) / 1000;
    return this.done > 0 && seconds >= 0.2 ? this.done / seconds : undefined;
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** Seconds as m:ss. */
function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
