import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectCflags } from '@hotsplice/kernel';
import { compileObjects } from '../src/build';
import { recordedCommand } from '../src/fresh';

const CC = 'gcc-12';
const TREE = (sourceTree: string) => ({ sourceTree, abi: 'test', compiler: CC });

// A miniature kbuild tree: one object whose `.cmd` records a real gcc-12 command line, the way fixdep writes it.
async function miniTree(source: string, flags?: string[], objtool = false): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), 'hs-compile-'));
  await mkdir(join(tree, 'include/config'), { recursive: true });
  await writeFile(join(tree, 'include/config/auto.conf'), 'CONFIG_X=y\n');
  await mkdir(join(tree, 'dir'));
  await writeFile(join(tree, 'dir/x.c'), source);
  let command = [CC, '-Wp,-MMD,dir/.x.o.d', '-O2', ...(flags ?? objectCflags(tree)), '-c', '-o', 'dir/x.o', 'dir/x.c'].join(' ');
  if (objtool) {
    // kbuild's line runs objtool on the object after gcc (`gcc …; ./tools/objtool/objtool … dir/x.o`); this one
    // succeeds on any file that exists, as the real one does on a stale but valid object.
    await mkdir(join(tree, 'tools/objtool'), { recursive: true });
    await writeFile(join(tree, 'tools/objtool/objtool'), '#!/bin/sh\nfor last; do :; done\ntest -f "$last"\n', { mode: 0o755 });
    command += ' ; ./tools/objtool/objtool --hacks=jump_label --orc dir/x.o';
  }
  await writeFile(join(tree, 'dir/.x.o.cmd'), `cmd_dir/x.o := ${command}\n\nsource_dir/x.o := dir/x.c\n`);
  return tree;
}

describe('compiling objects with the command kbuild recorded', () => {
  it('runs the recorded command in the tree and drops the dependency file, as kbuild does', async () => {
    const tree = await miniTree('int answer(void) { return 42; }\n');
    expect(await recordedCommand(tree, 'dir/x.o', CC)).toMatch(/^gcc-12 -Wp,-MMD,dir\/.x.o.d .* -c -o dir\/x.o dir\/x.c$/);
    await compileObjects(TREE(tree), ['dir/x.o']);
    const object = await readFile(join(tree, 'dir/x.o'));
    expect(object.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(object.includes(Buffer.from('answer\0'))).toBe(true);
    expect(existsSync(join(tree, 'dir/.x.o.d'))).toBe(false);
  });

  it('names the object and shows the compiler’s error when the recorded command fails', async () => {
    const tree = await miniTree('int answer(void) { return 42 }\n');
    await expect(compileObjects(TREE(tree), ['dir/x.o'])).rejects.toThrow(
      /^dir\/x\.o does not compile:\ndir\/x\.c:1:\d+: error: expected .;. before/,
    );
    expect(existsSync(join(tree, 'dir/.x.o.d'))).toBe(false);
  });

  it('fails when gcc fails before objtool, and leaves no object of an earlier build behind', async () => {
    const tree = await miniTree('int answer(void) { return 42; }\n', undefined, true);
    await compileObjects(TREE(tree), ['dir/x.o']);
    expect(existsSync(join(tree, 'dir/x.o'))).toBe(true);
    await writeFile(join(tree, 'dir/x.c'), 'int answer(void) { return 43 }\n');
    const failure = compileObjects(TREE(tree), ['dir/x.o']);
    await expect(failure).rejects.toThrow(/^dir\/x\.o does not compile:\ndir\/x\.c:1:\d+: error: expected .;. before .\}. token$/m);
    expect(existsSync(join(tree, 'dir/x.o'))).toBe(false);
  });

  it('leaves to make a command built with other flags, a command older than the config, or an incomplete line', async () => {
    expect(await recordedCommand(await miniTree('int a;\n', ['-ffunction-sections']), 'dir/x.o', CC)).toBeUndefined();
    const stale = await miniTree('int a;\n');
    const past = new Date(Date.now() - 60_000);
    await utimes(join(stale, 'dir/.x.o.cmd'), past, past);
    expect(await recordedCommand(stale, 'dir/x.o', CC)).toBeUndefined();
    const cut = await miniTree('int a;\n');
    const text = await readFile(join(cut, 'dir/.x.o.cmd'), 'utf8');
    await writeFile(join(cut, 'dir/.x.o.cmd'), text.replace(' -c -o dir/x.o dir/x.c', ''));
    expect(await recordedCommand(cut, 'dir/x.o', CC)).toBeUndefined();
    expect(await recordedCommand(cut, 'dir/missing.o', CC)).toBeUndefined();
  });
});
