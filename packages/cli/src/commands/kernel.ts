import { cacheRoot, isPrepared, offeredKernels, prepareKernel } from '@hotsplice/kernel';
import { ensureSystem } from '../../../../tools/setup/src';
import { parseVerb, usageError } from '../verb';
import { kernel as KERNEL } from '../verbs';

/**
 * `hotsplice kernel prepare [--abi A] [--json]`: fetch, unpack and prepare a Debian kernel (an ABI, `newest`, or
 * `newest-<release>`); print its paths. `hotsplice kernel list`: every kernel ABI apt offers across Debian's
 * releases (the machine's own apt, others through a private configuration), and whether each is prepared.
 */
export async function kernelCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseVerb(KERNEL, args);
  if (positionals.length !== 1) throw usageError(KERNEL);
  if (positionals[0] === 'list') return list(values.json ?? false, values.refresh ?? false);
  if (positionals[0] !== 'prepare') throw usageError(KERNEL);
  ensureSystem('build');
  const paths = await prepareKernel({ abi: values.abi, quiet: values.quiet });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(paths, null, 2)}\n`);
  } else {
    for (const [key, value] of Object.entries(paths)) process.stdout.write(`${key.padEnd(15)} ${value}\n`);
  }
  return 0;
}

async function list(json: boolean, refresh: boolean): Promise<number> {
  const cache = cacheRoot();
  const rows = await Promise.all(
    (await offeredKernels(cache, refresh)).map(async (row) => ({ ...row, prepared: row.buildable && (await isPrepared(cache, row.abi, row.version)) })),
  );
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const table = [['release', 'abi', 'flavour', 'version', 'prepared']];
  for (const r of rows) table.push([r.suite, r.abi, r.flavour, r.version, r.buildable ? (r.prepared ? 'yes' : 'no') : r.flavour === 'rt-amd64' ? 'no (rt patches)' : 'no source']);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  return 0;
}
