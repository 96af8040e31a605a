import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { bundleCli } from '@hotsplice/guest';
import { parseElf } from '@hotsplice/elf';
import { moduleName, writePackage } from '@hotsplice/link';
import { linkMapOf, symbolNames } from '@hotsplice/runpre';
import { layout, placeOf } from '../layout';
import { readCollected } from './collect';
import { kernelFor, patchesOf, runTask, eachTask } from './common';

interface PackageOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  abi: string;
  replace?: boolean;
  root?: string;
}

/**
 * The update package dist/hotpatch/<id>/hotsplice-<id>.tar.gz, its report and a readable summary, and beside them
 * hotsplice.cjs: the self-contained target CLI (apply / undo / view / status) that needs only Node on the target.
 */
export default async function packageUpdate(options: PackageOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    const kernel = await kernelFor(options.abi);
    const collected = await readCollected(context, placeOf(options));
    const link = join(context.root, layout.link(placeOf(options)));
    const result = await writePackage({
      id: options.id,
      outDir: join(context.root, layout.packageDir(placeOf(options))),
      kernel,
      ko: join(link, `${moduleName(options.id)}.ko`),
      oldCode: join(link, 'old-code.o'),
      reports: collected.markers.filter((m) => m.report).map((m) => m.report!),
      inputs: collected.inputs,
      patches: patchesOf(context, options.root)(kernel),
      extraMembers: [{ name: 'run-pre-symbols.json', data: await runPreSymbols(join(link, 'old-code.o'), kernel.systemMap) }],
      replace: options.replace,
    });
    const cli = await bundleCli(join(context.root, layout.packageDir(placeOf(options)), 'hotsplice.cjs'));
    console.log(`hotsplice: package ${result.tarball}`);
    console.log(`hotsplice: target CLI ${cli} (on the target: node hotsplice.cjs apply hotsplice-${options.id}.tar.gz)`);
  });
}

/**
 * The System.map addresses of every name the old code refers to: on the target the run-pre check then needs only
 * the KASLR slide, not all of /proc/kallsyms (packages/runpre link-map.ts).
 */
async function runPreSymbols(oldCode: string, systemMap: string): Promise<Buffer> {
  const names = symbolNames(parseElf(await readFile(oldCode)));
  return Buffer.from(`${JSON.stringify(linkMapOf(await readFile(systemMap, 'latin1'), names), null, 1)}\n`);
}

/** Several updates’ package tasks in one process (nx run-many). */
export const batch = eachTask(packageUpdate);
