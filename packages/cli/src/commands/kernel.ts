import { prepareKernel } from '@hotsplice/kernel';
import { ensureSystem } from '../../../../tools/setup/src';
import { parseVerb, usageError } from '../verb';
import { kernel as KERNEL } from '../verbs';

/** `hotsplice kernel prepare [--abi A] [--json]`: fetch, unpack and prepare a Debian kernel; print its paths. */
export async function kernelCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseVerb(KERNEL, args);
  if (positionals[0] !== 'prepare' || positionals.length > 1) throw usageError(KERNEL);
  ensureSystem('build');
  const paths = await prepareKernel({ abi: values.abi, quiet: values.quiet });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(paths, null, 2)}\n`);
  } else {
    for (const [key, value] of Object.entries(paths)) process.stdout.write(`${key.padEnd(12)} ${value}\n`);
  }
  return 0;
}
