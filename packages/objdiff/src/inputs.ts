import { EM_X86_64, ET_EXEC, ET_REL, type ElfFile, type ElfObject, type ElfSymbol, SHN_UNDEF, STT_FILE, STT_SECTION } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';

const TYPE_NAMES = ['ET_NONE (no file type)', 'ET_REL (relocatable)', 'ET_EXEC (executable)', 'ET_DYN (shared object)', 'ET_CORE (core file)'];
const typeName = (type: number) => TYPE_NAMES[type] ?? `type ${type}`;

/** A pre or post object must be what kbuild compiles: an x86-64 relocatable object. */
export function checkDiffable(path: string, elf: ElfObject): void {
  if (elf.header.type !== ET_REL) throw new UserError(`${path}: ${typeName(elf.header.type)}, not a relocatable object (ET_REL); hotsplice diff takes kbuild's .o files`);
  if (elf.header.machine !== EM_X86_64) throw new UserError(`${path}: machine ${elf.header.machine}, not x86-64`);
}

/**
 * pre and post must be two builds of one source file: a common STT_FILE name (gcc writes the .c file's), or,
 * when one has none, at least half of the smaller side's defined symbol names in common.
 */
export function checkSameSource(prePath: string, pre: ElfObject, postPath: string, post: ElfObject): void {
  const files = (elf: ElfObject) => new Set(elf.symbols.filter((s) => s.type === STT_FILE && s.name).map((s) => s.name));
  const [preFiles, postFiles] = [files(pre), files(post)];
  const why = `not built from the same source as ${prePath}`;
  if (preFiles.size && postFiles.size) {
    if (![...postFiles].some((f) => preFiles.has(f))) throw new UserError(`${postPath}: ${why} (STT_FILE ${[...postFiles].join(', ')}, not ${[...preFiles].join(', ')})`);
    return;
  }
  const [a, b] = [definedNames(pre.symbols), definedNames(post.symbols)];
  const common = [...b].filter((n) => a.has(n)).length;
  const smaller = Math.min(a.size, b.size);
  if (smaller && common * 2 < smaller) throw new UserError(`${postPath}: ${why} (no STT_FILE; ${common} of ${smaller} defined symbol names in common)`);
}

function definedNames(symbols: readonly ElfSymbol[]): Set<string> {
  return new Set(symbols.filter((s) => s.name && s.shndx !== SHN_UNDEF && s.type !== STT_FILE && s.type !== STT_SECTION).map((s) => s.name));
}

/**
 * What a patch binds to: vmlinux (an x86-64 ET_EXEC with a symbol table) or a kernel module, an ET_REL that
 * modpost finished (`.gnu.linkonce.this_module` and a `.modinfo` naming it). When the klp object name is known,
 * the file must be that one.
 */
export function checkParent(path: string, file: ElfFile, objname?: string): void {
  const { type, machine } = file.header;
  if (machine !== EM_X86_64) throw new UserError(`${path}: machine ${machine}, not x86-64`);
  if (type === ET_EXEC) {
    if (file.symbolTableIndex() < 0) throw new UserError(`${path}: an executable without a symbol table (stripped); the -dbg vmlinux has one`);
    if (objname && objname !== 'vmlinux') throw new UserError(`${path}: vmlinux (ET_EXEC), not module ${objname}`);
    return;
  }
  const module = type === ET_REL ? moduleName(file) : undefined;
  if (!module) {
    throw new UserError(
      `${path}: ${typeName(type)}${type === ET_REL ? ' without .gnu.linkonce.this_module and .modinfo name=' : ''}, neither vmlinux (ET_EXEC) nor a kernel module (.ko)`,
    );
  }
  if (objname && normal(objname) !== normal(module)) throw new UserError(`${path}: module ${module}, not ${objname === 'vmlinux' ? 'vmlinux' : `module ${objname}`}`);
}

/** `name=` of .modinfo, when the file is a finished module. */
function moduleName(file: ElfFile): string | undefined {
  const modinfo = file.sectionByName('.modinfo');
  if (!modinfo || !file.sectionByName('.gnu.linkonce.this_module')) return undefined;
  const entries = file.sectionData(modinfo.index).toString('latin1').split('\0');
  return entries.find((e) => e.startsWith('name='))?.slice(5) || undefined;
}

/** The kernel treats - and _ in module names alike. */
const normal = (name: string) => name.replace(/-/g, '_');
