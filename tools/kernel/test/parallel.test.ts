import { describe, expect, it } from 'vitest';
import { allSettled } from '../src/parallel';

describe('allSettled', () => {
  it('gives every value in order', async () => {
    expect(await allSettled([Promise.resolve(1), Promise.resolve('two')])).toEqual([1, 'two']);
  });

  it('throws the first error only after the slower piece has finished', async () => {
    let slowDone = false;
    const slow = new Promise<void>((resolve) => setTimeout(() => resolve(void (slowDone = true)), 100));
    await expect(allSettled([Promise.reject(new Error('unpack failed')), slow])).rejects.toThrow('unpack failed');
    expect(slowDone).toBe(true);
  });
});
