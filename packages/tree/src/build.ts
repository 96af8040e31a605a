import { copyFile, mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { inParallel, kbuildVariables, toolchainCommand } from '@hotsplice/kernel';
import { compileFailure } from './compile-error';
import { recordedCommand } from './fresh';
import { type PatchInput, applyPatches, restoreTree } from './journal';
import { withTreeLock } from './lock';

/** The prepared tree and the toolchain that builds it (KernelPaths has all four). */
export interface TreeInfo {
  sourceTree: string;
  abi: string;
  /** kbuild's CC (the kernel's CONFIG_CC_VERSION_TEXT compiler). */
  compiler: string;
  /** The build root the compiles run in (tools/kernel build-root.ts); absent: this machine's compiler. */
  buildRoot?: string;
}

/**
 * Compile kernel objects as kbuild does, with the variables `kernel prepare` used (so nothing of `prepare` is
 * rebuilt). An object kbuild has built before gets its recorded command (gcc, then objtool) run directly in the
 * tree: what make's if_changed would run, without make's walk of the top Makefile, which costs ~2 s per call
 * (measured on fs/proc/meminfo.o: 2.7 s through make, 0.7 s direct, byte-identical objects). The rest go to
 * make, many per call, which also records their commands for next time.
 *
 * Every object is removed before it is built, so a compile that fails can never leave the previous build's
 * object behind for objtool or the caller to take as the new one; any gcc, objtool or make failure throws the
 * compiler's own error lines.
 */
export async function compileObjects(tree: TreeInfo, objects: string[]): Promise<void> {
  const recorded = await Promise.all(objects.map((object) => (object.endsWith('.o') ? recordedCommand(tree.sourceTree, object, tree.compiler) : undefined)));
  await Promise.all(objects.filter((o) => o.endsWith('.o')).map((o) => rm(join(tree.sourceTree, o), { force: true })));
  const viaMake = objects.filter((_, i) => recorded[i] === undefined);
  if (viaMake.length) {
    const jobs = `-j${Math.max(1, availableParallelism())}`;
    await compile(tree, viaMake, 'make', ['-C', tree.sourceTree, '-s', jobs, ...kbuildVariables(tree), ...viaMake]);
  }
  const direct = objects.flatMap((object, i) => (recorded[i] === undefined ? [] : [{ object, command: recorded[i]! }]));
  await inParallel(direct, availableParallelism(), ({ object, command }) => runRecorded(tree, object, command));
}

/**
 * One recorded kbuild command, run as make runs it: /bin/sh in the tree with `set -e` (kbuild's `cmd` macro in
 * scripts/Kbuild.include starts every recipe with it), so a failing gcc stops before objtool. The dependency file
 * gcc writes is dropped as kbuild's fixdep step does (the `.cmd` keeps the list of the last make build).
 */
async function runRecorded(tree: TreeInfo, object: string, command: string): Promise<void> {
  const { sourceTree } = tree;
  try {
    await compile(tree, [object], '/bin/sh', ['-e', '-c', command], sourceTree);
  } catch (err) {
    await rm(join(sourceTree, object), { force: true }); // objtool may have failed on a complete object
    throw err;
  } finally {
    await rm(join(sourceTree, dirname(object), `.${basename(object)}.d`), { force: true });
  }
}

/** One build command of the tree, in its build root when it has one (tools/kernel toolchainCommand). */
async function compile(tree: TreeInfo, objects: string[], file: string, args: string[], cwd?: string): Promise<void> {
  const [command, argv] = await toolchainCommand(tree, file, args, cwd);
  const result = await execa(command, argv, { cwd, reject: false, all: true });
  if (result.failed) throw compileFailure(objects, String(result.all ?? result.shortMessage));
}

/**
 * Ksplice's snap + patch + build: compile `objects` from the pristine tree into `<out>/pre/`, apply the patches
 * under the tree's journal, compile again into `<out>/post/`, and restore the tree (also when the build fails),
 * all under the tree lock.
 */
export async function buildPrePost(
  tree: TreeInfo,
  patches: PatchInput[],
  objects: string[],
  out: string,
): Promise<void> {
  const journalDir = journalFor(tree.sourceTree);
  await withTreeLock(tree.sourceTree, async () => {
    await restoreTree(tree.sourceTree, journalDir);
    await compileObjects(tree, objects);
    await copyObjects(tree.sourceTree, objects, (o) => join(out, 'pre', o));
    await applyPatches(tree.sourceTree, journalDir, patches);
    try {
      await compileObjects(tree, objects);
      await copyObjects(tree.sourceTree, objects, (o) => join(out, 'post', o));
    } finally {
      await restoreTree(tree.sourceTree, journalDir);
    }
  });
}

/** One journal per tree, beside it: whoever takes the tree next restores what a killed run left patched. */
export function journalFor(sourceTree: string): string {
  return join(dirname(sourceTree), '.hotsplice-journal');
}

/** Copy built objects out of the tree (the next build overwrites them there): `object` → `destOf(object)`. */
export async function copyObjects(treeDir: string, objects: string[], destOf: (object: string) => string): Promise<void> {
  for (const object of objects) {
    await mkdir(dirname(destOf(object)), { recursive: true });
    await copyFile(join(treeDir, object), destOf(object));
  }
}
