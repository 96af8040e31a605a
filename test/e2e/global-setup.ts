import type { TestProject } from 'vitest/node';
import { type KernelPaths, prepareKernel } from '@hotsplice/kernel';
import { ensureKbuildPlan, shadowTrees } from '@hotsplice/tree';

declare module 'vitest' {
  export interface ProvidedContext {
    kernel: KernelPaths;
    /**
     * The kernel's source tree as prepared, never patched (the narrowing's pristine hard-linked copy): tests read
     * source files here, since another test may hold the shared tree patched.
     */
    pristineTree: string;
    /** trixie's newest 6.12 (amd64), built in its gcc-14 build root. */
    trixie: KernelPaths;
  }
}

/**
 * Prepare the Debian kernels once for all kernel and e2e files (cached: ~1 s when already prepared): the machine's
 * release's newest (~80 s cold) and trixie's newest 6.12 (cold ~5 min: ~1.3 GB of packages, the build root, the
 * tree). One after the other: two cold prepares of one kernel must not run at once. The first also gets kbuild's
 * plan of its tree (the pipeline's `plan` step would otherwise make it in the first test that builds: ~1 min once
 * per tree, and that test's run would go through a nested Nx run).
 */
export default async function setup(project: TestProject): Promise<void> {
  const kernel = await prepareKernel({ abi: process.env.HOTSPLICE_ABI });
  await ensureKbuildPlan(kernel);
  project.provide('kernel', kernel);
  project.provide('pristineTree', (await shadowTrees(kernel.sourceTree)).pristine);
  project.provide('trixie', await prepareKernel({ abi: process.env.HOTSPLICE_TRIXIE_ABI ?? 'newest-trixie' }));
}
