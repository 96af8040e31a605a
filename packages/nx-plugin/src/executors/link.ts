import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { linkModule, linkOldCode } from '@hotsplice/link';
import { layout } from '../layout';
import { readCollected } from './collect';
import { kernelFor, runTask, eachTask } from './common';

interface LinkOptions {
  id: string;
  abi: string;
  replace?: boolean;
}

/**
 * Makefile.ksplice's kmodsrc: the changed objects' new code plus the loader become the livepatch module (kbuild,
 * modpost against Debian's Module.symvers); their old code becomes one relocatable object for run-pre matching.
 */
export default async function link(options: LinkOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    const kernel = await kernelFor(options.abi);
    const collected = await readCollected(context, options.id);
    const changed = collected.markers.filter((m) => m.status === 'changed');
    const out = join(context.root, layout.link(options.id));
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const { ko } = await linkModule({
      id: options.id,
      kernel,
      newCodeObjects: changed.map((m) => ({ path: join(context.root, layout.newCode(options.id, m.object)), report: m.report! })),
      workDir: join(context.root, layout.kbuild(options.id)),
      replace: options.replace,
    });
    await copyFile(ko, join(out, basename(ko)));
    await linkOldCode(
      changed.map((m) => ({ path: join(context.root, layout.oldCode(options.id, m.object)), object: m.object, module: m.report!.objname !== 'vmlinux' })),
      join(out, 'old-code.o'),
      kernel,
    );
    console.log(`hotsplice: linked ${basename(ko)} from ${changed.length} object(s)`);
  });
}

/** Several updates’ link tasks in one process (nx run-many). */
export const batch = eachTask(link);
