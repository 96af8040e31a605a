import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { moduleName, writePackage } from '@hotsplice/link';
import { layout } from '../layout';
import { readCollected } from './collect';
import { kernelFor, oneLine, patchesOf, recordRun, taskId } from './common';

interface PackageOptions {
  id: string;
  abi: string;
  replace?: boolean;
  root?: string;
}

/** The update package dist/hotpatch/<id>/hotsplice-<id>.tar.gz, its report and a readable summary. */
export default async function packageUpdate(options: PackageOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  recordRun(taskId(context));
  try {
    const kernel = await kernelFor(options.abi);
    const collected = await readCollected(context, options.id);
    const link = join(context.root, layout.link(options.id));
    const result = await writePackage({
      id: options.id,
      outDir: join(context.root, layout.packageDir(options.id)),
      kernel,
      ko: join(link, `${moduleName(options.id)}.ko`),
      oldCode: join(link, 'old-code.o'),
      reports: collected.markers.filter((m) => m.report).map((m) => m.report!),
      patches: patchesOf(context, options.root)(kernel),
      replace: options.replace,
    });
    console.log(`hotsplice: package ${result.tarball}`);
    return { success: true };
  } catch (err) {
    process.stderr.write(`hotsplice: ${oneLine(err)}\n`);
    return { success: false };
  }
}
