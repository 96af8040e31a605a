import { describe, expect, it } from 'vitest';
import { Progress, printLine } from '../src/progress';

const MiB = 1048576;

/** A stand-in for stderr: what was written, and a clock the test moves. */
function terminal(isTTY: boolean, columns = 200) {
  const writes: string[] = [];
  let ms = 0;
  return {
    out: { isTTY, columns, write: (text: string) => writes.push(text) },
    now: () => ms,
    at: (t: number) => (ms = t),
    writes,
  };
}

describe('progress on a terminal: one line redrawn in place, with rate and ETA', () => {
  it('redraws one line (at most every 100 ms) and leaves one summary line', () => {
    const t = terminal(true);
    const p = new Progress('download', 100 * MiB, { out: t.out, now: t.now });
    t.at(1000);
    p.update(10 * MiB);
    t.at(1050);
    p.update(11 * MiB); // within 100 ms of the last redraw: not drawn
    t.at(5000);
    p.update(50 * MiB);
    t.at(10_000);
    p.finish();
    expect(t.writes).toEqual([
      '\rdownload  10% 10.0/100.0 MiB 10.0 MiB/s ETA 0:09\x1b[K',
      '\rdownload  50% 50.0/100.0 MiB 10.0 MiB/s ETA 0:05\x1b[K',
      '\rdownload: 100% (100.0 MiB in 10.0 s, 10.0 MiB/s)\x1b[K\n',
    ]);
  });

  it('shows the steps running at once on the same line; each leaves its summary when done', () => {
    const t = terminal(true);
    const download = new Progress('download', 100 * MiB, { out: t.out, now: t.now });
    const unpack = new Progress('unpack', 20 * MiB, { out: t.out, now: t.now });
    t.at(2000);
    download.update(40 * MiB);
    t.at(4000);
    unpack.update(10 * MiB);
    unpack.finish();
    expect(t.writes).toEqual([
      '\rdownload  40% 40.0/100.0 MiB 20.0 MiB/s ETA 0:03 | unpack   0% 0.0/20.0 MiB\x1b[K',
      '\rdownload  40% 40.0/100.0 MiB 10.0 MiB/s ETA 0:06 | unpack  50% 10.0/20.0 MiB 2.5 MiB/s ETA 0:04\x1b[K',
      '\runpack: 100% (20.0 MiB in 4.0 s, 5.0 MiB/s)\x1b[K\n',
      '\rdownload  40% 40.0/100.0 MiB 10.0 MiB/s ETA 0:06\x1b[K',
    ]);
  });

  it('keeps the line within the terminal width, and prints log lines above it', () => {
    const t = terminal(true, 30);
    const p = new Progress('linux-image-6.1.0-57-amd64-dbg', 100 * MiB, { out: t.out, now: t.now });
    t.at(1000);
    p.update(MiB);
    printLine('unpacking headers', t.out);
    expect(t.writes[0]).toBe('\rlinux-image-6.1.0-57-amd64-d…\x1b[K');
    expect(t.writes.slice(1)).toEqual(['\runpacking headers\x1b[K\n', t.writes[0]]);
  });
});

describe('progress in a log (not a terminal): a line per 10 %', () => {
  it('prints 0 % to 90 % once each as they are passed, then the summary; no carriage returns', () => {
    const t = terminal(false);
    const p = new Progress('download', 100 * MiB, { out: t.out, now: t.now });
    for (let i = 0; i <= 100; i++) {
      t.at(i * 100);
      p.update(i * MiB);
    }
    p.finish();
    expect(t.writes.join('')).toBe(
      [
        'download:   0% (0.0 of 100.0 MiB)',
        ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((n) => `download: ${String(n).padStart(3)}% (${n}.0 of 100.0 MiB, 10.0 MiB/s)`),
        'download: 100% (100.0 MiB in 10.0 s, 10.0 MiB/s)',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing when quiet, and nothing more after finish', () => {
    const t = terminal(false);
    new Progress('download', 100 * MiB, { out: t.out, now: t.now, quiet: true }).update(50 * MiB);
    const p = new Progress('unpack', MiB, { out: t.out, now: t.now });
    p.finish();
    p.update(MiB);
    p.finish();
    expect(t.writes).toEqual(['unpack: 100% (1.0 MiB in 0.0 s)\n']);
  });
});
