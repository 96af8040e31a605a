import { type KernelPaths, cacheRoot, cachedDebianUpdate } from '@hotsplice/kernel';
import { type InputFile, type UpdateInputs, cvesOfPatchHeader } from '@hotsplice/link';
import type { HunkNote, PatchInput } from '@hotsplice/tree';
import { planObjects } from './affected';
import { type HotpatchConfig, selected } from './config';

/**
 * The manifest step's account of what the update is made from: every changed file with the objects it affects
 * (or why it affects none), the hunks that moved or needed fuzz, and for a Debian update its versions, the files
 * no live patch can carry and the changelog items in between.
 */
export async function updateInputs(
  kernel: Pick<KernelPaths, 'sourceTree' | 'vmlinux' | 'version'>,
  config: HotpatchConfig,
  patches: PatchInput[],
  hunks: HunkNote[],
): Promise<UpdateInputs> {
  const delta = config.debianUpdate ? cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate) : undefined;
  const plan = await planObjects(kernel, patches, { notBuilt: delta ? 'report' : 'refuse' });
  const files: InputFile[] = plan.files.map((f) => (f.notBuilt ? { path: f.path, kind: 'not-built' } : { path: f.path, kind: 'source', objects: f.objects }));
  // What the author says the update is: in inputs.json, not in the project's options, so changing it re-runs only
  // collect and package (Nx hashes a project's whole configuration into each of its tasks).
  const cves = [...new Set([...(config.cves ?? []), ...patches.flatMap((p) => cvesOfPatchHeader(p.text))])].sort();
  const delivery = { ...(config.level !== undefined ? { level: config.level } : {}), ...(cves.length ? { cves } : {}) };
  if (!delta) return { hunks, files, ...delivery };
  for (const f of delta.files) {
    // Outside the kernel stays what it is; any other change the selection leaves out is not carried.
    if (f.kind !== 'outside-the-kernel' && !selected(config, f.path)) files.push({ path: f.path, kind: 'not-selected' });
    else if (f.kind !== 'source') files.push({ path: f.path, kind: f.kind, reason: f.reason });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { hunks, files, debian: { from: delta.from, to: delta.to, changelog: delta.changelog }, ...delivery };
}
