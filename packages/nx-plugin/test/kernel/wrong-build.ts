// A deliberately wrong build of a real update's old code: fs/proc/version.c, pristine and patched, compiled with
// the object's recorded kbuild command but -O1 instead of -O2 (outside the tree, under the tree lock so no other
// job has the tree patched meanwhile); the differ turns the pair into old code as the pipeline would.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf } from '@hotsplice/elf';
import { diffObjects } from '@hotsplice/objdiff';
import { cmdFileOf, lineMapFromPatch, parseKbuildCmd, withTreeLock } from '@hotsplice/tree';
import { REPO } from './workspace';

export const WRONG_OBJECT = 'fs/proc/version.o';
export const VERSION_PATCH = readFileSync(join(REPO, 'bench', 'patches', 'proc-version-marker.patch'), 'utf8');

export interface WrongBuild {
  object: string;
  /** The -O1 old code (the pre code of version_proc_show). */
  oldCode: Uint8Array;
  patched: Array<{ oldName: string; sympos: number }>;
}

export async function wrongBuild(tree: string, out: string): Promise<WrongBuild> {
  const defines = ['-DKBUILD_MODFILE="fs/proc/version"', '-DKBUILD_BASENAME="version"', '-DKBUILD_MODNAME="version"', '-D__KBUILD_MODNAME=kmod_version'];
  await withTreeLock(tree, async () => {
    const cmd = parseKbuildCmd(readFileSync(join(tree, cmdFileOf(WRONG_OBJECT)), 'utf8'));
    if (!cmd.cflags.includes('-O2')) throw new Error(`${WRONG_OBJECT}: the recorded command has no -O2`);
    mkdirSync(join(out, 'fs/proc'), { recursive: true });
    copyFileSync(join(tree, 'fs/proc/version.c'), join(out, 'fs/proc/version.c'));
    execFileSync('patch', ['-s', '-p1', '-d', out], { input: VERSION_PATCH });
    const compile = (source: string, object: string) => {
      const flags = [...cmd.cflags.map((f) => (f === '-O2' ? '-O1' : f)), '-iquote', join(tree, 'fs/proc'), ...defines];
      execFileSync(cmd.cc, [...flags, '-c', '-o', object, source], { cwd: tree, stdio: 'pipe' });
      if (cmd.objtool) execFileSync(join(tree, cmd.objtool), [...cmd.objtoolArgs, object], { cwd: tree, stdio: 'pipe' });
    };
    compile('fs/proc/version.c', join(out, 'pre.o'));
    compile(join(out, 'fs/proc/version.c'), join(out, 'post.o'));
  });
  const { oldCode, report } = diffObjects(parseElf(readFileSync(join(out, 'pre.o'))), parseElf(readFileSync(join(out, 'post.o'))), {
    object: WRONG_OBJECT,
    lineMap: lineMapFromPatch(VERSION_PATCH, 'fs/proc/version.c'),
  });
  if (!oldCode) throw new Error('the -O1 build gave no old code');
  return { object: WRONG_OBJECT, oldCode, patched: report.patched };
}
