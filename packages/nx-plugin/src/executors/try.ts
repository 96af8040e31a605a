import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';
import type { ExecutorContext } from '@nx/devkit';
import { runGuest } from '@hotsplice/guest';
import { readHotpatchConfig } from '../config';
import { fleetPlace, layout, placeOf } from '../layout';
import { kernelFor, oneLine } from './common';

interface TryOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  abi: string;
  /** The folder of hotpatch.json, whose "check" (e.g. `cat /proc/version`) shows the patch. */
  root?: string;
  /** A fleet update's own `try`: the package is the one of the kernel `abi` resolves to. */
  fleet?: boolean;
}

/** The guest script: the check, apply, the check and the view table, undo, the check again. */
export function tryScript(id: string, packageFile: string, check: string | undefined): string {
  const show = check ? `echo '$ ${check.replace(/'/g, `'\\''`)}'; ${check}` : 'true';
  return [
    'set -e',
    'export HOTSPLICE_STATE_DIR=/tmp/hotsplice-state',
    `echo '== before'; ${show}`,
    `echo '== hotsplice apply ${packageFile}'; hotsplice apply /hotsplice/files/${packageFile}`,
    `echo '== after'; ${show}`,
    "echo '== hotsplice view'; hotsplice view",
    `echo '== hotsplice undo ${id}'; hotsplice undo ${id}`,
    `echo '== undone'; ${show}`,
  ].join('\n');
}

/**
 * `nx run kernel:try`: boot Debian's kernel under QEMU with the update package and the self-contained target CLI,
 * and show the update going in and out again.
 */
export default async function tryUpdate(options: TryOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  try {
    const kernel = await kernelFor(options.abi);
    const packageFile = `hotsplice-${options.id}.tar.gz`;
    // A fleet update's `try` boots the kernel `--abi` names (default: the fleet's first) with that kernel's package.
    const place = options.fleet ? fleetPlace(options.id, kernel.abi) : placeOf(options);
    const packagePath = join(context.root, layout.packageDir(place), packageFile);
    if (!existsSync(packagePath)) throw new UserError(`${packagePath} is missing: build it first (nx run ${context.projectName}:hotpatch)`);
    const started = performance.now();
    console.log(`hotsplice try: booting Linux ${kernel.abi} under QEMU with ${packageFile}`);
    let inScript = false;
    const guest = await runGuest({
      kernel: kernel.vmlinuz,
      cli: true,
      files: [{ source: packagePath }],
      scripts: [{ name: 'try', content: tryScript(options.id, packageFile, readHotpatchConfig(join(context.root, options.root ?? '.', 'hotpatch.json')).check) }],
      timeoutMs: 300_000,
      onLine: (line) => {
        if (line.startsWith('@@HOTSPLICE:BEGIN')) inScript = true;
        else if (line.startsWith('@@HOTSPLICE:END')) inScript = false;
        else if (inScript) console.log(`  ${line}`);
      },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    for (const problem of guest.problems) process.stderr.write(`hotsplice try: kernel problem: ${problem}\n`);
    console.log(`hotsplice try: ${guest.ok ? 'done' : 'FAILED'} in ${seconds} s (boot ${guest.bootSeconds?.toFixed(1) ?? '?'} s)`);
    return { success: guest.ok };
  } catch (err) {
    process.stderr.write(`hotsplice try: ${oneLine(err)}\n`);
    return { success: false };
  }
}
