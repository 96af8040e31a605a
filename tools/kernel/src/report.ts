// Phase timing and log lines, printed to stderr so that `--json` output on stdout stays clean (progress: progress.ts).
import { printLine } from './progress';

export { Progress } from './progress';

export interface Phase {
  name: string;
  seconds: number;
  /** Seconds from the timer's creation to the phase's start: phases that run side by side overlap. */
  start: number;
}

/** Records how long each named phase took; `summary()` is the table printed at the end of a command. */
export class PhaseTimer {
  readonly phases: Phase[] = [];
  private readonly origin = performance.now();

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.phases.push({ name, seconds: (performance.now() - start) / 1000, start: (start - this.origin) / 1000 });
    }
  }

  /** The phases' table; when some ran side by side, the total is the wall time and the time they overlapped is said. */
  summary(title: string): string {
    const width = Math.max(...this.phases.map((p) => p.name.length), 5);
    const sum = this.phases.reduce((total, p) => total + p.seconds, 0);
    const wall = Math.max(0, ...this.phases.map((p) => p.start + p.seconds)) - Math.min(Infinity, ...this.phases.map((p) => p.start));
    const overlapped = this.phases.length > 1 && sum - wall > 0.005 ? `  (phases add up to ${sum.toFixed(2)} s, ${(sum - wall).toFixed(2)} s of it side by side)` : '';
    const row = (name: string, seconds: number, note = '') => `  ${name.padEnd(width)}  ${seconds.toFixed(2).padStart(8)} s${note}`;
    const rows = [...this.phases].sort((a, b) => a.start - b.start).map((p) => row(p.name, p.seconds, overlapped ? `  at ${p.start.toFixed(2)} s` : ''));
    return [`${title} phase timings:`, ...rows, row('total', overlapped ? wall : sum, overlapped)].join('\n');
  }
}

export function log(message: string): void {
  printLine(message);
}
