import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ElfFile, SHT_NOBITS } from '@hotsplice/elf';
import { type KernelPaths, UserError, uncompressedModule } from '@hotsplice/kernel';

/**
 * The .ko of a loadable module in Debian's image package (file names may use '-' where the module name has '_'),
 * decompressed first when the image compresses its modules (trixie: `.ko.xz`).
 */
export async function findModule(modulesDir: string, name: string): Promise<string> {
  const wanted = `${name.replace(/-/g, '_')}.ko`;
  const entries = await readdir(join(modulesDir, 'kernel'), { recursive: true });
  const hit = entries.find((e) => e.split('/').pop()!.replace(/-/g, '_').replace(/\.ko\.(xz|zst|gz)$/, '.ko') === wanted);
  if (!hit) throw new UserError(`module ${name}: no ${wanted} in ${modulesDir}`);
  return uncompressedModule(join(modulesDir, 'kernel', hit.replace(/\.(xz|zst|gz)$/, '')));
}

/** struct kernel_param (include/linux/moduleparam.h, x86-64): name, mod, ops, perm/level/flags, arg: 40 bytes. */
const KERNEL_PARAM_SIZE = 40;

/**
 * Every name a module of this kernel goes by in /sys/module, which an update's module must not take: the loadable
 * modules of the image package (modules.order), the built-in ones (modules.builtin), and the prefixes of built-in parameters
 * (`module.sig_enforce` gives /sys/module/module; a parameter without a prefix lives in /sys/module/kernel:
 * param_sysfs_builtin, kernel/params.c). Names use '_' where file names may have '-'.
 */
export async function kernelModuleNames(kernel: Pick<KernelPaths, 'modulesDir' | 'vmlinux'>): Promise<Set<string>> {
  const names = new Set<string>();
  const add = (name: string) => names.add(name.replace(/-/g, '_'));
  // modules.order lists every loadable module the image ships, modules.builtin the built-in ones (kernel/x/y.ko).
  for (const list of ['modules.order', 'modules.builtin']) {
    const text = await readFile(join(kernel.modulesDir, list), 'utf8');
    for (const line of text.split('\n')) if (line.trim()) add(basename(line.trim()).replace(/\.ko$/, ''));
  }
  for (const param of builtinParameters(kernel.vmlinux)) add(param.includes('.') ? param.slice(0, param.indexOf('.')) : 'kernel');
  return names;
}

/** The names of vmlinux's built-in parameters (`__param` entries; their name pointers lead into its data). */
function builtinParameters(vmlinux: string): string[] {
  const elf = ElfFile.open(vmlinux);
  try {
    const params = elf.sectionByName('__param');
    if (!params) return [];
    const table = elf.sectionData(params.index);
    const names: string[] = [];
    for (let at = 0; at + KERNEL_PARAM_SIZE <= table.length; at += KERNEL_PARAM_SIZE) {
      const address = table.readBigUInt64LE(at);
      const holder = elf.sections.find((s) => s.addr <= address && address < s.addr + BigInt(s.size) && s.type !== SHT_NOBITS);
      if (!holder) continue;
      const start = Number(address - holder.addr);
      // A parameter name is short (MODULE_NAME_LEN + the parameter's own name): read a window, not the section.
      const bytes = elf.source.read(holder.offset + start, Math.min(256, holder.size - start), 'parameter name');
      names.push(bytes.toString('latin1', 0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)));
    }
    return names;
  } finally {
    elf.close();
  }
}
