import { execFileSync } from 'node:child_process';
import { readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { kbuildVariables } from '@hotsplice/kernel';
import { compileObjects, withTreeLock } from '@hotsplice/tree';
import { recordedCommand } from '../../src/fresh';

// The recorded-command path against make itself, on the Debian tree: same bytes, vmlinux and module objects.
const kernel = inject('kernel');
const OBJECTS = ['fs/proc/meminfo.o', 'fs/binfmt_misc.o'];

describe('compiling with kbuild’s recorded command', () => {
  it('gives the same bytes as make for a vmlinux object and a module object', async () => {
    await withTreeLock(kernel.sourceTree, async () => {
      const tree = kernel.sourceTree;
      const touch = () => Promise.all(OBJECTS.map((o) => utimes(join(tree, o.replace(/\.o$/, '.c')), new Date(), new Date())));
      await touch();
      execFileSync('make', ['-C', tree, '-s', ...kbuildVariables(kernel), ...OBJECTS]);
      const byMake = await Promise.all(OBJECTS.map((o) => readFile(join(tree, o))));
      for (const o of OBJECTS) expect(await recordedCommand(tree, o, kernel.compiler), o).toContain(`-o ${o} ${o.replace(/\.o$/, '.c')}`);
      await touch();
      await compileObjects(kernel, OBJECTS);
      const direct = await Promise.all(OBJECTS.map((o) => readFile(join(tree, o))));
      expect(direct.map((b) => b.length)).toEqual(byMake.map((b) => b.length));
      OBJECTS.forEach((o, i) => expect(direct[i]!.equals(byMake[i]!), o).toBe(true));
      // make agrees the objects are up to date: it rebuilds nothing (the object's mtime stays).
      const mtimes = () => Promise.all(OBJECTS.map(async (o) => (await stat(join(tree, o))).mtimeMs));
      const before = await mtimes();
      execFileSync('make', ['-C', tree, '-s', ...kbuildVariables(kernel), ...OBJECTS]);
      expect(await mtimes()).toEqual(before);
    });
  });
});
