// The phase table: sequential phases add up to the total; phases run side by side show the wall time and the overlap.
import { describe, expect, it } from 'vitest';
import { PhaseTimer } from '../src/report';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PhaseTimer', () => {
  it('sums phases that ran one after the other', async () => {
    const timer = new PhaseTimer();
    await timer.run('a', () => wait(50));
    await timer.run('b', () => wait(50));
    const text = timer.summary('t');
    expect(text.split('\n').map((l) => l.trim().split(/\s+/)[0])).toEqual(['t', 'a', 'b', 'total']);
    expect(text).not.toMatch(/side by side/);
    const [a, b, total] = [...text.matchAll(/(\d+\.\d+) s/g)].map((m) => Number(m[1]));
    expect(total).toBeCloseTo(a! + b!, 1);
  });

  it('gives the wall time and the overlap when phases ran side by side', async () => {
    const timer = new PhaseTimer();
    await Promise.all([timer.run('long', () => wait(300)), (async () => {
      await timer.run('short 1', () => wait(100));
      await timer.run('short 2', () => wait(100));
    })()]);
    const total = timer.summary('t').split('\n').at(-1)!;
    const [wall, sum, overlap] = [...total.matchAll(/(\d+\.\d+) s/g)].map((m) => Number(m[1]));
    expect(wall).toBeGreaterThanOrEqual(0.29);
    expect(wall).toBeLessThan(sum! - 0.1);
    expect(sum).toBeGreaterThanOrEqual(0.49);
    expect(overlap).toBeCloseTo(sum! - wall!, 2);
    expect(timer.summary('t')).toMatch(/short 2 +0\.\d\d s {2}at 0\.\d\d s/);
  });
});
