import { ElfFile } from '@hotsplice/elf';
import { type KernelPaths, UserError } from '@hotsplice/kernel';
import { KbuildConfig, type PatchInput, type PatchedFile, objectsIncludingEach, parsePatch } from '@hotsplice/tree';

/** The kernel objects a set of patches affects, and the headers that need the include index. */
export interface Affected {
  objects: string[];
  headers: string[];
  files: PatchedFile[];
}

/** A `.c` file is compiled into the `.o` beside it; a header affects every object that includes it. */
export function affectedObjects(patches: PatchInput[]): Affected {
  const files = patches.flatMap((p) => parsePatch(p.text, p.name));
  const objects = new Set<string>();
  const headers: string[] = [];
  for (const file of files) {
    if (file.path.endsWith('.c')) objects.add(file.path.replace(/\.c$/, '.o'));
    else if (file.path.endsWith('.h')) headers.push(file.path);
    else throw new Error(`${file.path}: only C sources and headers can be hot-patched`);
  }
  return { objects: [...objects].sort(), headers, files };
}

/** What one changed file of the patches does in this kernel's build: the objects it affects. */
export interface SourcePlan {
  path: string;
  /** The objects rebuilt for it (its own, its includers' for a header or an included .c). */
  objects: string[];
  /** Nothing this config builds is made from it. */
  notBuilt?: true;
}

/**
 * The objects to rebuild for `patches` in this kernel's configuration, and per changed file the objects it
 * affects. A `.c` file kbuild does not compile into its own object may still be built as part of another
 * (kernel/sched/build_policy.c includes rt.c): it then affects its includers, like a header. One that nothing
 * built includes is refused by name (`notBuilt: 'refuse'`: its change cannot reach the running kernel, and
 * building it anyway would compile code this kernel does not have), or listed as not built (`'report'`: a Debian
 * update changes files of every config).
 */
export async function planObjects(
  kernel: Pick<KernelPaths, 'sourceTree' | 'vmlinux'>,
  patches: PatchInput[],
  options: { notBuilt: 'refuse' | 'report' } = { notBuilt: 'refuse' },
): Promise<{ objects: string[]; files: SourcePlan[] }> {
  const affected = affectedObjects(patches);
  const isBuilt = await builtObjects(kernel);
  const files: SourcePlan[] = [];
  const included: string[] = [];
  for (const object of affected.objects) {
    const source = object.replace(/\.o$/, '.c');
    if (await isBuilt(object)) files.push({ path: source, objects: [object] });
    else included.push(source);
  }
  // Headers, and .c files only others include, affect their includers (include index, built once per tree, ~12 s).
  const includers = await objectsIncludingEach(kernel.sourceTree, [...included, ...affected.headers]);
  for (const source of included) {
    const objects = includers.get(source)!;
    if (!objects.length && options.notBuilt === 'refuse') throw new UserError(`${source} is not built in this kernel's config`);
    files.push({ path: source, objects, ...(objects.length ? {} : { notBuilt: true as const }) });
  }
  for (const header of affected.headers) files.push({ path: header, objects: includers.get(header)! });
  return { objects: [...new Set(files.flatMap((f) => f.objects))].sort(), files };
}

/**
 * Whether this kernel's build compiles an object: vmlinux's DWARF says so (built in), or its Makefiles do.
 */
export async function builtObjects(kernel: Pick<KernelPaths, 'sourceTree' | 'vmlinux'>): Promise<(object: string) => Promise<boolean>> {
  const config = await KbuildConfig.load(kernel.sourceTree);
  const units = vmlinuxSources(kernel.vmlinux);
  return async (object) => units.has(object.replace(/\.o$/, '.c')) || (await config.built(object));
}

/**
 * The C files vmlinux was compiled from: the names in its DWARF line-string table (`.debug_line_str`, ~80 KB in
 * Debian's -dbg vmlinux), tree-relative as kbuild passes them to gcc. The truth for built-in objects where a
 * Makefile form is beyond KbuildConfig (`obj-$(VDSO32-y)`, init/version-timestamp.c linked by link-vmlinux.sh).
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
