// Waiting for the kernel with a deadline, saying what is awaited once a wait passes a second.

export interface WaitOptions {
  /** What is awaited, for the progress lines: "the patch transition of fix_1". */
  what: string;
  timeoutMs: number;
  /** Progress lines go here (stderr); a line per second after the first second. */
  progress?: (line: string) => void;
  intervalMs?: number;
}

/** Poll `done` until it is true (resolves with the elapsed ms) or the deadline passes (resolves undefined). */
export async function waitUntil(done: () => Promise<boolean>, options: WaitOptions): Promise<number | undefined> {
  const start = performance.now();
  let said = 0;
  for (;;) {
    if (await done()) return performance.now() - start;
    const elapsed = performance.now() - start;
    if (elapsed >= options.timeoutMs) return undefined;
    const seconds = Math.floor(elapsed / 1000);
    if (seconds > said) {
      said = seconds;
      options.progress?.(`hotsplice: waiting for ${options.what}: ${seconds} s (timeout ${Math.round(options.timeoutMs / 1000)} s)`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
}
