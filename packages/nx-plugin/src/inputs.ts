import { type KernelPaths, cacheRoot, cachedDebianUpdate } from '@hotsplice/kernel';
import type { InputFile, UpdateInputs } from '@hotsplice/link';
import type { HunkNote, PatchInput } from '@hotsplice/tree';
import { planObjects } from './affected';
import type { HotpatchConfig } from './config';

/**
 * The manifest step's account of what the update is made from: every changed file with the objects it affects
 * (or why it affects none), the hunks that moved or needed fuzz, and for a Debian update its versions, the files
 * no live patch can carry and the changelog items in between.
 */
export async function updateInputs(
  kernel: Pick<KernelPaths, 'sourceTree' | 'vmlinux' | 'version' | 'abi'>,
  config: HotpatchConfig,
  patches: PatchInput[],
  hunks: HunkNote[],
): Promise<UpdateInputs> {
  const delta = config.debianUpdate ? cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate) : undefined;
  const plan = await planObjects(kernel, patches, { notBuilt: delta ? 'report' : 'refuse' });
  const files: InputFile[] = plan.files.map((f) =>
    f.notBuilt ? { path: f.path, kind: 'not-built' } : { path: f.path, kind: 'source', objects: f.objects, ...(f.narrowing ? { narrowing: f.narrowing } : {}) },
  );
  if (!delta) return { hunks, files };
  for (const f of delta.files) if (f.kind !== 'source') files.push({ path: f.path, kind: f.kind, reason: f.reason });
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { hunks, files, debian: { from: delta.from, to: delta.to, changelog: delta.changelog } };
}
