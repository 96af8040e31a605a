// The repository's example update built the way the pipeline does: pre/post objects from the prepared tree, the
// differ against Debian's vmlinux and Module.symvers, then the link stage.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf } from '@hotsplice/elf';
import type { KernelPaths } from '@hotsplice/kernel';
import { type DiffReport, diffObjects, parseSymvers, readParent } from '@hotsplice/objdiff';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';

export const EXAMPLE_ID = 'proc_version_marker';
export const EXAMPLE_PATCH = join(__dirname, '..', '..', '..', '..', 'examples', 'proc-version-marker.patch');
export const EXAMPLE_OBJECT = 'fs/proc/version.o';
export const EXAMPLE_MARKER = 'hotsplice: livepatched by proc_version_marker';

export interface BuiltExample {
  patch: { name: string; text: string };
  report: DiffReport;
  newCode: string;
  oldCode: string;
}

/** buildPrePost + diffObjects for the example patch; new and old code are written into `dir`. */
export async function diffExample(kernel: KernelPaths, dir: string): Promise<BuiltExample> {
  const text = readFileSync(EXAMPLE_PATCH, 'utf8');
  const patch = { name: 'examples/proc-version-marker.patch', text };
  await buildPrePost(kernel, [patch], [EXAMPLE_OBJECT], dir);
  const { report, newCode, oldCode } = diffObjects(
    parseElf(readFileSync(join(dir, 'pre', EXAMPLE_OBJECT))),
    parseElf(readFileSync(join(dir, 'post', EXAMPLE_OBJECT))),
    {
      object: EXAMPLE_OBJECT,
      parent: readParent(kernel.vmlinux),
      exported: parseSymvers(readFileSync(kernel.symvers, 'utf8')),
      lineMap: lineMapFromPatch(text, 'fs/proc/version.c'),
    },
  );
  if (!newCode || !oldCode) throw new Error(`the example patch produced no new code: ${JSON.stringify(report)}`);
  writeFileSync(join(dir, 'new.o'), newCode);
  writeFileSync(join(dir, 'old.o'), oldCode);
  return { patch, report, newCode: join(dir, 'new.o'), oldCode: join(dir, 'old.o') };
}
