// Progress and phase timing, printed to stderr so that `--json` output on stdout stays clean.

export interface Phase {
  name: string;
  seconds: number;
}

/** Records how long each named phase took; `summary()` is the table printed at the end of a command. */
export class PhaseTimer {
  readonly phases: Phase[] = [];

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.phases.push({ name, seconds: (performance.now() - start) / 1000 });
    }
  }

  summary(title: string): string {
    const width = Math.max(...this.phases.map((p) => p.name.length), 5);
    const total = this.phases.reduce((sum, p) => sum + p.seconds, 0);
    const rows = this.phases.map((p) => `  ${p.name.padEnd(width)}  ${p.seconds.toFixed(2).padStart(8)} s`);
    return [`${title} phase timings:`, ...rows, `  ${'total'.padEnd(width)}  ${total.toFixed(2).padStart(8)} s`].join('\n');
  }
}

/** A percent progress line: redrawn in place on a terminal, one line per 10 % otherwise (CI logs). */
export class Progress {
  private lastShown = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number, private readonly quiet = false) {}

  update(done: number): void {
    if (this.quiet || this.total <= 0) return;
    const percent = Math.min(100, Math.floor((done / this.total) * 100));
    const step = this.tty ? percent : Math.floor(percent / 10) * 10;
    if (step === this.lastShown) return;
    this.lastShown = step;
    const line = `${this.label}: ${String(step).padStart(3)}% (${mib(done)} of ${mib(this.total)} MiB)`;
    process.stderr.write(this.tty ? `\r${line}` : `${line}\n`);
  }

  finish(): void {
    if (this.quiet) return;
    if (this.lastShown !== 100) this.update(this.total);
    if (this.tty) process.stderr.write('\n');
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
