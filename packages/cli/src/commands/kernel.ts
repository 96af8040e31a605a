import { parseArgs } from 'node:util';
import { UserError, prepareKernel } from '@hotsplice/kernel';

/** `hotsplice kernel prepare [--abi A] [--json]`: fetch, unpack and prepare a Debian kernel; print its paths. */
export async function kernelCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { abi: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' } },
  });
  if (positionals[0] !== 'prepare' || positionals.length > 1) {
    throw new UserError('usage: hotsplice kernel prepare [--abi A] [--json]', 2);
  }
  const paths = await prepareKernel({ abi: values.abi, quiet: values.quiet });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(paths, null, 2)}\n`);
  } else {
    for (const [key, value] of Object.entries(paths)) process.stdout.write(`${key.padEnd(12)} ${value}\n`);
  }
  return 0;
}
