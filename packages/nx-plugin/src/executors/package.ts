import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { REPO_ROOT, bundleCli } from '@hotsplice/guest';
import { run } from '@hotsplice/kernel';
import { parseElf } from '@hotsplice/elf';
import { type Manifest, buildDeb, moduleName, toolsDeb, updateDeb, writePackage } from '@hotsplice/link';
import { linkMapOf, symbolNames } from '@hotsplice/runpre';
import { layout, placeOf } from '../layout';
import { readCollected } from './collect';
import { kernelFor, patchesOf, runTask, eachTask, dropPackages } from './common';

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
    await dropPackages(context, [placeOf(options)]);
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
    const outDir = join(context.root, layout.packageDir(placeOf(options)));
    const cli = await bundleCli(join(outDir, 'hotsplice.cjs'));
    const debs = await deliveryDebs(result.manifest, result.tarball, cli, outDir);
    console.log(`hotsplice: package ${result.tarball}`);
    console.log(`hotsplice: target CLI ${cli} (on the target: node hotsplice.cjs apply hotsplice-${options.id}.tar.gz)`);
    console.log(`hotsplice: Debian packages ${debs.join(', ')} (hotsplice repo makes an apt repository of them)`);
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

/**
 * The update's .deb for its ABI and hotsplice-tools (the target CLI, its man page and hotsplice.service) beside
 * the package: what `hotsplice repo` serves to a fleet.
 */
async function deliveryDebs(manifest: Manifest, tarball: string, cli: string, outDir: string): Promise<string[]> {
  const version = (JSON.parse(await readFile(join(REPO_ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version;
  const unit = await readFile(join(REPO_ROOT, 'packages', 'cli', 'systemd', 'hotsplice.service'), 'utf8');
  const man = Buffer.from(await run(process.execPath, [cli, '--man']));
  return [
    await buildDeb(updateDeb(manifest, await readFile(tarball), version), outDir),
    await buildDeb(toolsDeb(await readFile(cli), unit, version, man), outDir),
  ];
}

/** Several updates’ package tasks in one process (nx run-many). */
export const batch = eachTask(packageUpdate);
