import type { TestProject } from 'vitest/node';
import { type KernelPaths, prepareKernel } from '@hotsplice/kernel';
import { ensureKbuildPlan } from '@hotsplice/tree';

declare module 'vitest' {
  export interface ProvidedContext {
    kernel: KernelPaths;
  }
}

/**
 * Prepare the Debian kernel once for all e2e files (cached: ~1 s when already prepared, ~80 s cold), and make
 * kbuild's plan of its tree (the pipeline's `plan` step would otherwise make it in the first test that builds:
 * ~1 min once per tree, and that test's run would go through a nested Nx run).
 */
export default async function setup(project: TestProject): Promise<void> {
  const kernel = await prepareKernel({ abi: process.env.HOTSPLICE_ABI });
  await ensureKbuildPlan(kernel.sourceTree, kernel.abi);
  project.provide('kernel', kernel);
}
