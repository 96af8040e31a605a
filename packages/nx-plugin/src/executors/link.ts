import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { linkModule, linkOldCode } from '@hotsplice/link';
import { layout, placeOf } from '../layout';
import { readCollected } from './collect';
import { compileSetup, eachTask, kernelFor, runTask, withCompilerWrapper, dropPackages } from './common';

interface LinkOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  abi: string;
  replace?: boolean;
  /** Folder of hotpatch.json, relative to the workspace (its "compiler"). */
  root?: string;
}

/**
 * Makefile.ksplice's kmodsrc: the changed objects' new code plus the loader become the livepatch module (kbuild,
 * modpost against Debian's Module.symvers); their old code becomes one relocatable object for run-pre matching.
 */
export default async function link(options: LinkOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    await dropPackages(context, [placeOf(options)]);
    const kernel = await kernelFor(options.abi);
    const collected = await readCollected(context, placeOf(options));
    const changed = collected.markers.filter((m) => m.status === 'changed');
    const out = join(context.root, layout.link(placeOf(options)));
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    // A chosen compiler builds the loader too (a compile wrapper such as distcc is for the tree's objects only).
    const { use } = await compileSetup(context, options.root, kernel);
    const { ko } = await withCompilerWrapper(undefined, kernel, () =>
      linkModule({
        id: options.id,
        kernel,
        newCodeObjects: changed.map((m) => ({ path: join(context.root, layout.newCode(placeOf(options), m.object)), report: m.report! })),
        workDir: join(context.root, layout.kbuild(placeOf(options))),
        replace: options.replace,
      }), use);
    await copyFile(ko, join(out, basename(ko)));
    await linkOldCode(
      changed.map((m) => ({ path: join(context.root, layout.oldCode(placeOf(options), m.object)), object: m.object, module: m.report!.objname !== 'vmlinux' })),
      join(out, 'old-code.o'),
      kernel,
    );
    console.log(`hotsplice: linked ${basename(ko)} from ${changed.length} object(s)`);
  });
}

/** Several updates’ link tasks in one process (nx run-many). */
export const batch = eachTask(link);
