// Phase timing and log lines, printed to stderr so that `--json` output on stdout stays clean (progress: progress.ts).
import { printLine } from './progress';

export { Progress } from './progress';

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

export function log(message: string): void {
  printLine(message);
}
