import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { describe, expect, it } from 'vitest';
import collect from '../src/executors/collect';

// The manifest is cached: it no longer clears the update's place at every run. A step that runs and fails must
// still leave no earlier run's package behind, looking like this run's.
describe('a pipeline step that runs', () => {
  it('removes the package of its place before it works, so a failure leaves none', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hs-drop-'));
    const earlier = join(root, 'dist/hotpatch/fix_1/hotsplice-fix_1.tar.gz');
    const other = join(root, 'dist/hotpatch/fix_2/hotsplice-fix_2.tar.gz');
    for (const file of [earlier, other]) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'an earlier run');
    }
    const context = { root, projectName: 'kernel', targetName: 'collect' } as ExecutorContext;
    // No affected.json: collect fails (the diff tasks before it did not leave what it reads).
    expect(await collect({ id: 'fix_1' }, context)).toEqual({ success: false });
    expect(existsSync(earlier)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });
});
