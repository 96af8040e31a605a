import { ElfFile } from '@hotsplice/elf';
import { type KernelPaths, UserError } from '@hotsplice/kernel';
import { KbuildConfig, type PatchInput, type PatchedFile, objectsIncluding, parsePatch } from '@hotsplice/tree';

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

/**
 * The objects to rebuild for `patches` in this kernel's configuration. A `.c` file kbuild does not compile into
 * its own object may still be built as part of another (kernel/sched/build_policy.c includes rt.c): it then
 * affects its includers, like a header. One that nothing built includes is refused by name: its change cannot
 * reach the running kernel, and building it anyway would compile code this kernel does not have.
 */
export async function objectsToBuild(kernel: Pick<KernelPaths, 'sourceTree' | 'vmlinux'>, patches: PatchInput[]): Promise<string[]> {
  const affected = affectedObjects(patches);
  const config = await KbuildConfig.load(kernel.sourceTree);
  const units = vmlinuxSources(kernel.vmlinux);
  const objects = new Set<string>();
  const included: string[] = [];
  for (const object of affected.objects) {
    const source = object.replace(/\.o$/, '.c');
    if (units.has(source) || (await config.built(object))) objects.add(object);
    else included.push(source);
  }
  for (const source of included) {
    const includers = await objectsIncluding(kernel.sourceTree, [source]);
    if (!includers.length) throw new UserError(`${source} is not built in this kernel's config`);
    for (const object of includers) objects.add(object);
  }
  // A header patch affects every object that includes it (include index, built once per tree, ~12 s).
  if (affected.headers.length) for (const object of await objectsIncluding(kernel.sourceTree, affected.headers)) objects.add(object);
  return [...objects].sort();
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
