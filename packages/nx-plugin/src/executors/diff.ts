import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import type { KernelPaths } from '@hotsplice/kernel';
import { KERNEL_MODULE_DIR } from '@hotsplice/link';
import { diffFiles, parseSymvers, readParent, type ParentSymbol } from '@hotsplice/objdiff';
import { applyPatches, compileObjects, copyObjects, journalFor, lineMapFromPatch, readKbuildRecord, restoreTree, withTreeLock } from '@hotsplice/tree';
import { layout, placeOf } from '../layout';
import { findModule } from '../modules';
import { type ObjectOptions, type TaskResults, compileSetup, dropPackages, kernelFor, patchesOf, runAll, single, withCompileSetup, writeOutput } from './common';

/** What Makefile.ksplice's `X.o.KSPLICE` marker records here: the verdict and the differ's report. */
export interface Marker {
  object: string;
  objname: string;
  status: 'unchanged' | 'changed' | 'no-functional-change' | 'refused';
  report?: import('@hotsplice/objdiff').DiffReport;
}

/**
 * Makefile.ksplice's patch + diff: apply the patches under the journal, build the post objects together,
 * restore the tree; then per object a byte compare (identical: done, the marker says so) and the symbol diff.
 */
export async function batch(taskGraph: TaskGraph, inputs: Record<string, ObjectOptions>, _o: ObjectOptions, context: ExecutorContext): Promise<TaskResults> {
  // `nx run-many` over several updates, or a fleet's kernels, batches their diff tasks together: each update has its
  // own patches, each kernel its own tree, and each such group its own outcome.
  return runAll(
    taskGraph,
    inputs,
    async (tasks) => {
      await dropPackages(context, tasks.map(placeOf));
      return (await diffUpdate(context, tasks)).join('\n');
    },
    (t) => `${t.abi}\0${t.root ?? '.'}`,
    (t) => t.abi,
  );
}

/** One update's tasks: patch, build all its post objects, restore, then diff each object. */
async function diffUpdate(context: ExecutorContext, tasks: ObjectOptions[]): Promise<string[]> {
  const kernel = await kernelFor(tasks[0].abi);
  const patches = patchesOf(context, tasks[0].root)(kernel);
  const tree = kernel.sourceTree;
  const modules = new Map<string, string | undefined>();
  const setup = await compileSetup(context, tasks[0].root, kernel);
  await withTreeLock(tree, async () => {
    await restoreTree(tree, journalFor(tree));
    await installPatchApi(tree);
    await applyPatches(tree, journalFor(tree), patches);
    try {
      const objects = tasks.map((t) => t.object);
      await withCompileSetup(setup, kernel, () => compileObjects(kernel, objects));
      for (const t of tasks) await copyObjects(tree, [t.object], (o) => join(context.root, layout.post(placeOf(t), o)));
      for (const object of objects) modules.set(object, (await readKbuildRecord(tree, object))?.module);
      // No object of a chosen compiler stays in the shared tree (snap.ts).
      if (setup.use) await Promise.all(objects.map((o) => rm(join(tree, o), { force: true })));
    } finally {
      await restoreTree(tree, journalFor(tree));
    }
  });
  const exported = parseSymvers(await readFile(kernel.symvers, 'utf8'), kernel.symvers);
  const parents = new Map<string, ParentSymbol[]>();
  const lines: string[] = [];
  for (const t of tasks) {
    const objname = modules.get(t.object) ?? 'vmlinux';
    const marker = await diffOne(context, kernel, t, objname, exported, parents, patches);
    await writeOutput(context, layout.marker(placeOf(t), t.object), `${JSON.stringify(marker, null, 2)}\n`);
    lines.push(`${t.id}: ${t.object} [${objname}]: ${marker.status}${marker.report?.changed.length ? ` (${marker.report.changed.join(', ')})` : ''}`);
  }
  return lines;
}

/**
 * The patch API for patches to include, like ksplice-create's ksplice-patch.h: <linux/hotsplice.h> (callbacks,
 * shadow variables, markers for the differ), and kpatch-build's "kpatch-macros.h" / "kpatch-syscall.h" on top of
 * it, found through kbuild's `-I./include`. They stay in the tree: no pristine file includes them, so they change
 * no pre object, and kbuild's recorded dependencies of a post object built with them stay valid for the next build.
 */
const PATCH_API = ['linux/hotsplice.h', 'kpatch-macros.h', 'kpatch-syscall.h'];

async function installPatchApi(tree: string): Promise<void> {
  for (const header of PATCH_API) {
    const wanted = await readFile(join(KERNEL_MODULE_DIR, 'include', header));
    const target = join(tree, 'include', header);
    const present = await readFile(target).catch(() => undefined);
    if (!present?.equals(wanted)) await writeFile(target, wanted);
  }
}

async function diffOne(
  context: ExecutorContext,
  kernel: KernelPaths,
  t: ObjectOptions,
  objname: string,
  exported: Set<string>,
  parents: Map<string, ParentSymbol[]>,
  patches: Array<{ name: string; text: string }>,
): Promise<Marker> {
  const pre = join(context.root, layout.pre(placeOf(t), t.object));
  const post = join(context.root, layout.post(placeOf(t), t.object));
  const out = join(context.root, layout.newCode(placeOf(t), t.object));
  const oldOut = join(context.root, layout.oldCode(placeOf(t), t.object));
  await rm(out, { force: true });
  await rm(oldOut, { force: true });
  if ((await readFile(pre)).equals(await readFile(post))) return { object: t.object, objname, status: 'unchanged' };
  if (!parents.has(objname)) {
    parents.set(objname, readParent(objname === 'vmlinux' ? kernel.vmlinux : await findModule(kernel.modulesDir, objname), objname));
  }
  await mkdir(dirname(out), { recursive: true });
  await mkdir(dirname(oldOut), { recursive: true });
  const source = t.object.replace(/\.o$/, '.c');
  const maps = patches.map((p) => lineMapFromPatch(p.text, source));
  const lineMap = (line: number) => maps.reduce<number | undefined>((l, map) => (l === undefined ? undefined : map(l)), line);
  const [result] = await diffFiles([{ pre, post, out, oldOut, objname, object: t.object, lineMap }], { parent: parents.get(objname), exported });
  const status = result.exitCode === 0 ? 'changed' : result.exitCode === 3 ? 'no-functional-change' : 'refused';
  return { object: t.object, objname, status, report: result.report };
}

export default single(batch);
