// The apply/undo wait for livepatch's transition: one line redrawn each second on a terminal, a line per 10 % of the
// timeout in a log.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../src/target/wait';

const stream = (isTTY: boolean) => {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
};

describe('waitUntil progress', () => {
  it('redraws one line on a terminal and ends it; prints a line per 10 % of the timeout in a log', async () => {
    const tty = stream(true);
    const log = stream(false);
    const start = performance.now();
    const [timedOut, finished] = await Promise.all([
      waitUntil(async () => false, { what: 'the patch transition of fix_1', timeoutMs: 2600, progress: tty }),
      waitUntil(async () => performance.now() - start > 2700, { what: 'the unpatch transition of fix_1', timeoutMs: 20_000, progress: log }),
    ]);
    expect(timedOut).toBeUndefined();
    expect(finished).toBeGreaterThan(2700);
    expect(tty.writes).toEqual([
      '\rhotsplice: waiting for the patch transition of fix_1: 1 s (timeout 3 s)\x1b[K',
      '\rhotsplice: waiting for the patch transition of fix_1: 2 s (timeout 3 s)\x1b[K',
      '\n',
    ]);
    // 20 s timeout: a line each 2 s.
    expect(log.writes).toEqual(['hotsplice: waiting for the unpatch transition of fix_1: 2 s (timeout 20 s)\n']);
  });

  it('prints nothing for a wait under a second', async () => {
    const tty = stream(true);
    expect(await waitUntil(async () => true, { what: 'x', timeoutMs: 1000, progress: tty })).toBeGreaterThanOrEqual(0);
    expect(tty.writes).toEqual([]);
  });
});
