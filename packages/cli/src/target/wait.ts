// Waiting for the kernel with a deadline, saying what is awaited once a wait passes a second.

/** Where a wait's progress goes: process.stderr, or a test's stand-in. */
export interface WaitStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface WaitOptions {
  /** What is awaited, for the progress lines: "the patch transition of fix_1". */
  what: string;
  timeoutMs: number;
  /**
   * Progress after the first second: on a terminal one line redrawn each second, ended when the wait ends; in a log
   * a line per 10 % of the timeout (at most one a second).
   */
  progress?: WaitStream;
  /** More for a progress line, when there is something to say ("held by sleep[88] S sleeping on do_nanosleep"). */
  detail?: () => string | undefined;
  intervalMs?: number;
}

/** Poll `done` until it is true (resolves with the elapsed ms) or the deadline passes (resolves undefined). */
export async function waitUntil(done: () => Promise<boolean>, options: WaitOptions): Promise<number | undefined> {
  const start = performance.now();
  const out = options.progress;
  const step = Math.max(1, Math.floor(options.timeoutMs / 10_000));
  let said = 0;
  try {
    for (;;) {
      if (await done()) return performance.now() - start;
      const elapsed = performance.now() - start;
      if (elapsed >= options.timeoutMs) return undefined;
      const seconds = Math.floor(elapsed / 1000);
      if (out && seconds > said && (out.isTTY || seconds - said >= step)) {
        const more = options.detail?.();
        const line = `hotsplice: waiting for ${options.what}: ${seconds} s (timeout ${Math.round(options.timeoutMs / 1000)} s)${more ? `, ${more}` : ''}`;
        out.write(out.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
        said = seconds;
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
    }
  } finally {
    if (out?.isTTY && said) out.write('\n');
  }
}
