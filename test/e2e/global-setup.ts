import type { TestProject } from 'vitest/node';
import { type KernelPaths, prepareKernel } from '@hotsplice/kernel';

declare module 'vitest' {
  export interface ProvidedContext {
    kernel: KernelPaths;
  }
}

/** Prepare the Debian kernel once for all e2e files (cached: ~1 s when already prepared, ~80 s cold). */
export default async function setup(project: TestProject): Promise<void> {
  const kernel = await prepareKernel({ abi: process.env.HOTSPLICE_ABI });
  project.provide('kernel', kernel);
}
