import type { ExecutorContext } from '@nx/devkit';
import type { KernelPaths } from '@hotsplice/kernel';
import type { PatchInput } from '@hotsplice/tree';
import { makePlan, planObjects } from '../affected';
import { kernelFor, patchesOf, runTask } from './common';

/**
 * What the graph needs before it can hold the update's objects: kbuild's plan of the tree (once per tree, about a
 * minute) and, for a change to headers, the objects whose code can change (each candidate preprocessed before and
 * after the patch; kept per object and change, so a second run reads it). Uncached in Nx: the answers live beside
 * the kernel tree, keyed by the tree and the change, and the graph reads them there (docs/decisions.md).
 */
export default async function plan(options: { abi: string; root: string; notBuilt?: 'refuse' | 'report' }, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    const kernel = await kernelFor(options.abi);
    await planKernel(kernel, patchesOf(context, options.root)(kernel), options.notBuilt ?? 'refuse');
  });
}

/** The plan of one kernel (also each kernel of a fleet, fleet.ts), with what it did printed. */
export async function planKernel(kernel: KernelPaths, patches: PatchInput[], notBuilt: 'refuse' | 'report'): Promise<void> {
  const started = Date.now();
  const { files, reused } = await makePlan(kernel, patches, (line) => console.log(line));
  for (const f of files) {
    const how = reused ? 'as an earlier run narrowed this change' : `${f.preprocessed} preprocessed before and after the patch, ${f.cached} decided by an earlier run`;
    console.log(`hotsplice: ${f.path}: ${f.candidates} candidate object(s), ${how}, ${f.compile.length} to compile`);
  }
  if (files.length) console.log(`hotsplice: header narrowing took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // What the graph will make of it, here: a refusal (a file this config does not build) is this step's one line,
  // not a graph without the update's targets.
  await planObjects(kernel, patches, { notBuilt });
}
