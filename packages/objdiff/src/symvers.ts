import { UserError } from '@hotsplice/kernel';

/** One Module.symvers line: CRC, symbol, module (vmlinux or a path), export type, namespace (may be empty). */
const LINE = /^0x[0-9a-f]{8}\t[^\s]+\t[^\s]+\tEXPORT_(UNUSED_)?SYMBOL(_GPL)?(_FUTURE)?(\t[^\s]*)?$/;

/**
 * Names exported by Module.symvers ("0xcrc\tname\tmodule\tEXPORT_SYMBOL[_GPL]\tnamespace" per line). The first
 * line of another form is refused by number: a wrong file would otherwise make every global look unexported.
 */
export function parseSymvers(text: string, source = 'Module.symvers'): Exports {
  const names = new Exports();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    if (!LINE.test(line)) {
      const shown = /[^\t\x20-\x7e]/.test(line) ? 'binary data' : JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
      throw new UserError(`${source}:${i + 1}: not a Module.symvers line (0xCRC<TAB>symbol<TAB>module<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace): ${shown}`);
    }
    const [, name, module, , namespace] = line.split('\t');
    names.add(name);
    names.owners.set(name, module.split('/').pop()!.replace(/-/g, '_'));
    if (namespace) names.namespaces.set(name, namespace);
  }
  if (!names.size) throw new UserError(`${source}: no Module.symvers lines`);
  return names;
}

/**
 * Exported names, each with the module that exports it (Module.symvers' third column: vmlinux or a module path)
 * and its symbol namespace, if any (the fifth).
 */
export class Exports extends Set<string> {
  readonly owners = new Map<string, string>();
  readonly namespaces = new Map<string, string>();

  /** The klp object that defines an exported symbol: "vmlinux" or the module's name. */
  ownerOf(name: string): string | undefined {
    return this.owners.get(name);
  }
}
