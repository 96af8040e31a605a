import { execFile } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { exists } from './cache';
import { UserError } from './errors';

/**
 * A module of the image package as a plain `.ko`. bookworm ships them so; trixie compresses every module
 * (CONFIG_MODULE_COMPRESS_XZ: `kernel/drivers/net/dummy.ko.xz`, while modules.order still names `dummy.ko`). The
 * first call decompresses beside the compressed file (write to a private name, then rename: a reader never sees
 * half a module); later calls find it there.
 */
export async function uncompressedModule(ko: string): Promise<string> {
  if (await exists(ko)) return ko;
  for (const [suffix, tool] of [
    ['.xz', 'xz'],
    ['.zst', 'zstd'],
    ['.gz', 'gzip'],
  ] as const) {
    const packed = `${ko}${suffix}`;
    if (!(await stat(packed).then((s) => s.isFile(), () => false))) continue;
    const partial = `${ko}.partial-${process.pid}`;
    try {
      await promisify(execFile)('sh', ['-c', `${tool} -dc "$1" > "$2"`, 'sh', packed, partial]);
    } catch (err) {
      await rm(partial, { force: true });
      throw new UserError(`cannot decompress ${packed} with ${tool}: ${(err as Error).message.split('\n')[0]}`);
    }
    await rename(partial, ko);
    return ko;
  }
  throw new UserError(`no module ${ko} (nor .xz, .zst, .gz)`);
}
