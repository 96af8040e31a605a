import { ElfFile } from '@hotsplice/elf';
import { type KernelPaths, UserError } from '@hotsplice/kernel';
import {
  type BuiltSources,
  type FileNarrowing,
  type PatchInput,
  type PatchedFile,
  ensureKbuildPlan,
  narrowHeaderChange,
  narrowingKey,
  objectsIncludingEach,
  parsePatch,
  plannedSources,
  readNarrowing,
  writeNarrowing,
} from '@hotsplice/tree';

type Kernel = Pick<KernelPaths, 'sourceTree' | 'vmlinux' | 'abi' | 'compiler' | 'buildRoot'>;

/** The files a set of patches changes: C sources and headers (anything else cannot be hot-patched). */
interface Affected {
  sources: string[];
  headers: string[];
  files: PatchedFile[];
}

function affectedFiles(patches: PatchInput[]): Affected {
  const files = patches.flatMap((p) => parsePatch(p.text, p.name));
  const sources = new Set<string>();
  const headers = new Set<string>();
  for (const file of files) {
    if (file.path.endsWith('.c')) sources.add(file.path);
    else if (file.path.endsWith('.h')) headers.add(file.path);
    else throw new Error(`${file.path}: only C sources and headers can be hot-patched`);
  }
  return { sources: [...sources].sort(), headers: [...headers].sort(), files };
}

/** What one changed file of the patches does in this kernel's build: the objects it affects. */
export interface SourcePlan {
  path: string;
  /** The objects rebuilt for it (its own, or those of its includers that the header narrowing keeps). */
  objects: string[];
  /** Nothing this config builds is made from it. */
  notBuilt?: true;
  /** A header (or included .c file): how many objects include it, how many were preprocessed to decide. */
  narrowing?: Omit<FileNarrowing, 'path' | 'compile'>;
}

/**
 * The graph needs what only the `plan` step makes (kbuild's plan of the tree, a header change's narrowing), and
 * it is not made yet: the graph holds `prepare → plan → renest` until it is.
 */
export class NeedsPlanning extends Error {}

/**
 * The objects to rebuild for `patches` in this kernel's configuration, and per changed file the objects it
 * affects. A `.c` file is its own object(s) when kbuild compiles it; one kbuild does not compile on its own may
 * still be built as part of another (kernel/sched/build_policy.c includes rt.c) and then, like a header, affects
 * the objects that include it, narrowed to those whose code can change (the `plan` step's answer, read here). One
 * that nothing built includes is refused by name (`notBuilt: 'refuse'`: its change cannot reach the running
 * kernel, and building it anyway would compile code this kernel does not have), or listed as not built
 * (`'report'`: a Debian update changes files of every config).
 */
export async function planObjects(
  kernel: Kernel,
  patches: PatchInput[],
  options: { notBuilt: 'refuse' | 'report' } = { notBuilt: 'refuse' },
): Promise<{ objects: string[]; files: SourcePlan[] }> {
  const { direct, included, headers } = await classify(kernel, patches);
  const files: SourcePlan[] = direct.map((d) => ({ path: d.path, objects: d.objects }));
  const changed = [...included, ...headers];
  if (changed.length) {
    const answer = await readNarrowing(kernel.sourceTree, await narrowingKey(kernel.sourceTree, patches, changed, direct.flatMap((d) => d.objects)));
    if (!answer) throw new NeedsPlanning(`the header change's narrowing is not made yet`);
    for (const file of answer.files) {
      const { path, compile, ...narrowing } = file;
      const objects = compile.map((c) => c.object);
      if (included.includes(path) && !narrowing.candidates) {
        if (options.notBuilt === 'refuse') throw new UserError(`${path} is not built in this kernel's config`);
        files.push({ path, objects, notBuilt: true });
      } else {
        files.push({ path, objects, narrowing });
      }
    }
  }
  return { objects: [...new Set(files.flatMap((f) => f.objects))].sort(), files };
}

/**
 * The `plan` step: kbuild's plan of the tree (once per tree) and, for a change to headers or included .c files,
 * the narrowing of their candidates (preprocessed before and after the patch), kept for graph time.
 */
export async function makePlan(kernel: Kernel, patches: PatchInput[], log: (line: string) => void): Promise<{ files: FileNarrowing[]; reused?: true }> {
  await ensureKbuildPlan(kernel);
  const { built, direct, included, headers } = await classify(kernel, patches);
  const changed = [...included, ...headers];
  if (!changed.length) return { files: [] };
  const directObjects = direct.flatMap((d) => d.objects);
  const key = await narrowingKey(kernel.sourceTree, patches, changed, directObjects);
  const known = await readNarrowing(kernel.sourceTree, key);
  if (known) return { files: known.files, reused: true };
  const includers = await objectsIncludingEach(kernel.sourceTree, changed, built);
  // Objects compiled for their own changed source are built anyway: they are no candidates.
  const candidates = new Map([...includers].map(([file, objects]) => [file, objects.filter((o) => !directObjects.includes(o))]));
  const files = await narrowHeaderChange({ tree: kernel, patches, candidates, log });
  await writeNarrowing(kernel.sourceTree, key, { format: 1, files });
  return { files };
}

/** The changed .c files kbuild compiles (with their objects), those it does not (included ones), and headers. */
async function classify(kernel: Kernel, patches: PatchInput[]) {
  const affected = affectedFiles(patches);
  const built = await builtSources(kernel);
  if (!built) throw new NeedsPlanning(`kbuild's plan of ${kernel.sourceTree} is not made yet`);
  const direct: Array<{ path: string; objects: string[] }> = [];
  const included: string[] = [];
  for (const source of affected.sources) {
    const objects = built.objectsOf(source);
    if (objects.length) direct.push({ path: source, objects });
    else included.push(source);
  }
  return { built, direct, included, headers: affected.headers };
}

/**
 * What this kernel's build compiles from each source: kbuild's own plan (a dry run of the whole build), and the
 * C files vmlinux's DWARF names that no Makefile list holds (init/version-timestamp.c, which link-vmlinux.sh
 * compiles itself). Undefined until the plan is made.
 */
export async function builtSources(kernel: Kernel): Promise<BuiltSources | undefined> {
  const plan = await plannedSources(kernel);
  if (!plan) return undefined;
  let units: Set<string> | undefined;
  return {
    objectsOf: (source) => {
      const objects = plan.objectsOf(source);
      if (objects.length) return objects;
      units ??= vmlinuxSources(kernel.vmlinux);
      return units.has(source) ? [source.replace(/\.c$/, '.o')] : [];
    },
  };
}

/**
 * The C files vmlinux was compiled from: the names in its DWARF line-string table (`.debug_line_str`, ~80 KB in
 * Debian's -dbg vmlinux), tree-relative as kbuild passes them to gcc.
 */
export function vmlinuxSources(vmlinux: string): Set<string> {
  const elf = ElfFile.open(vmlinux);
  try {
    const table = elf.sectionByName('.debug_line_str');
    if (!table) return new Set();
    return new Set(elf.sectionData(table.index).toString('latin1').split('\0').filter((name) => name.endsWith('.c') && !name.startsWith('/')));
  } finally {
    elf.close();
  }
}
