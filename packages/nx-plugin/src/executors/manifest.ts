import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { type KernelPaths, RECIPE, UserError, compilerVersionLine, kbuildVariables } from '@hotsplice/kernel';
import { moduleName } from '@hotsplice/link';
import { type HunkNote, applyPatches, changesByFile, compileObjects, describeHunk, journalFor, readKbuildRecord, restoreTree, withTreeLock } from '@hotsplice/tree';
import { layout, updateTag, workDir, placeOf } from '../layout';
import { readHotpatchConfig } from '../config';
import { updateInputs } from '../inputs';
import { kernelModuleNames } from '../modules';
import { compileSetup, kernelFor, patchesOf, sha256, writeOutput, runTask } from './common';

interface ManifestOptions {
  id: string;
  /** One kernel of a fleet: where its files go (layout.ts placeOf); absent: the update id. */
  place?: string;
  abi: string;
  root: string;
}

/** The update's objects: the object projects carrying its tag (graph.ts), each naming its object in `diff`. */
function affectedObjects(context: ExecutorContext): string[] {
  const tag = updateTag(context.projectName!);
  return Object.values(context.projectsConfigurations!.projects)
    .filter((p) => p.tags?.includes(tag))
    .map((p) => p.targets!.diff!.options.object as string)
    .sort();
}

/**
 * Bring the kernel tree into Nx's hash (design.md §5: Nx hashes only workspace files). For each affected object,
 * `<obj>.pre` hashes everything its build reads — the source and every header kbuild recorded in `.<obj>.cmd`, the
 * compiler, the make variables and the config — and `<obj>.post` adds the patches. Snap and diff take these files
 * as inputs, so an unrelated change leaves them cached and any relevant one misses.
 *
 * Also Ksplice's presrc revert: a tree an interrupted run left patched is restored first, and the patches are
 * test-applied so that one that does not apply fails here, naming the hunk, before anything is built.
 */
export default async function manifest(options: ManifestOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  return runTask(context, async () => {
    await clearEarlierRun(context, placeOf(options));
    const kernel = await kernelFor(options.abi);
    await refuseTakenModuleName(kernel, options.id);
    // A chosen compiler whose version is not the kernel's stops the update here, in one line, unless forced.
    const { use } = await compileSetup(context, options.root, kernel);
    const objects = affectedObjects(context);
    const tree = kernel.sourceTree;
    const patches = patchesOf(context, options.root)(kernel);
    let hunks: HunkNote[] = [];
    await withTreeLock(tree, async () => {
      const restored = await restoreTree(tree, journalFor(tree));
      if (restored.length) console.log(`hotsplice: restored ${restored.length} file(s) an interrupted run left patched`);
      ({ hunks } = await applyPatches(tree, journalFor(tree), patches));
      await restoreTree(tree, journalFor(tree));
      // kbuild writes an object's dependency list when it builds it: build the never-built ones once.
      const unknown = [];
      for (const object of objects) if (!(await readKbuildRecord(tree, object))) unknown.push(object);
      await compileObjects(kernel, unknown);
    });
    const common = sha256(
      JSON.stringify({
        recipe: RECIPE,
        compiler: use ? `${use.versionText} (${use.path})` : await compilerVersionLine(kernel),
        make: kbuildVariables({ ...kernel, sourceTree: '<tree>' }),
        config: sha256(await readFile(join(tree, '.config'))),
      }),
    );
    const fileHashes = new Map<string, Promise<string>>();
    const hashFile = (path: string) => {
      let h = fileHashes.get(path);
      if (!h) fileHashes.set(path, (h = readFile(join(tree, path)).then(sha256, () => 'missing')));
      return h;
    };
    // Per file, every patch's change to it: an object's post hash takes only the files it is built from.
    const perFile = changesByFile(patches);
    for (const object of objects) {
      const record = await readKbuildRecord(tree, object);
      if (!record) throw new UserError(`${object}: kbuild left no dependency record; is it built in Debian's config?`);
      const deps = await Promise.all(record.deps.map(async (d) => `${d} ${await hashFile(d)}`));
      const pre = sha256([common, object, record.module ?? 'vmlinux', ...deps].join('\n'));
      await writeOutput(context, layout.hash(placeOf(options), object, 'pre'), `${pre}\n`);
      const changes = record.deps.filter((d) => perFile.has(d)).map((d) => `${d}\n${perFile.get(d)}`);
      await writeOutput(context, layout.hash(placeOf(options), object, 'post'), `${sha256([pre, ...changes].join('\0'))}\n`);
    }
    await writeOutput(
      context,
      layout.affected(placeOf(options)),
      `${JSON.stringify({ objects, patches: patches.map((p) => ({ name: p.name, sha256: sha256(p.text) })) }, null, 2)}\n`,
    );
    const inputs = await updateInputs(kernel, readHotpatchConfig(join(context.root, options.root, 'hotpatch.json')), patches, hunks);
    if (use?.mismatch) {
      inputs.compiler = { path: use.path, version: use.versionText, kernel: use.kernelVersionText };
      console.log(`hotsplice: compiler FORCED: ${use.path} ("${use.versionText}") for ${kernel.abi}, built by "${use.kernelVersionText}"`);
    }
    await writeOutput(context, layout.inputs(placeOf(options)), `${JSON.stringify(inputs, null, 2)}\n`);
    for (const hunk of hunks) console.log(`hotsplice: ${hunk.fuzz ? 'FUZZ: ' : ''}${describeHunk(hunk)}`);
    console.log(`hotsplice: ${objects.length} affected object(s): ${objects.join(', ')}`);
  });
}

/**
 * Remove what an earlier run of this update left in the workspace (markers, collect.json, the package), so that
 * whatever is there when this run ends was written or restored from the cache by this run, for its own inputs: a
 * run that fails can never leave an earlier run's package or verdict looking like its own. Every later task
 * depends on this one. The kbuild folder of the module link stays: it is a build directory, not a result.
 */
async function clearEarlierRun(context: ExecutorContext, id: string): Promise<void> {
  const dir = join(context.root, workDir(id));
  const kept = join(context.root, layout.kbuild(id));
  const entries = await readdir(dir).catch(() => []);
  await Promise.all(entries.map((name) => join(dir, name)).filter((p) => p !== kept).map((p) => rm(p, { recursive: true, force: true })));
  await rm(join(context.root, layout.packageDir(id)), { recursive: true, force: true });
}

/**
 * The update's module joins the kernel's modules in /sys/module: a name the kernel already uses there (`module`,
 * `ext4`) would make insmod fail with EEXIST, or `apply` take the kernel's own directory for the update.
 */
async function refuseTakenModuleName(kernel: KernelPaths, id: string): Promise<void> {
  const name = moduleName(id);
  if ((await kernelModuleNames(kernel)).has(name)) {
    throw new UserError(`update id "${id}": Linux ${kernel.abi} has a module named ${name} already (/sys/module/${name}); choose another id`);
  }
}
