import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ElfFile, SHF_ALLOC, SHT_NOBITS } from '@hotsplice/elf';
import { UserError } from '@hotsplice/kernel';
import type { KernelSymbol, MemorySource } from './source';
import { SymbolIndex } from './symbol-index';
import { parseSymbolText } from './symbol-text';

interface Extent {
  start: bigint;
  end: bigint;
  offset: number;
  name: string;
}

/**
 * Debian's -dbg vmlinux as a memory source: symbols from the real System.map (the same names and order as
 * kallsyms), bytes read lazily from the ELF file through its section headers (633 MB: never read whole). The
 * file holds the code as linked: fentry calls, return-thunk jumps, original alternatives.
 */
export class VmlinuxSource implements MemorySource {
  readonly kind = 'file' as const;
  readonly description: string;
  private readonly elf: ElfFile;
  private readonly index: SymbolIndex;
  private readonly extents: Extent[];

  constructor(vmlinux: string, systemMap: string | KernelSymbol[]) {
    this.description = basename(vmlinux);
    this.index = new SymbolIndex(typeof systemMap === 'string' ? parseSymbolText(readFileSync(systemMap, 'latin1')) : systemMap);
    try {
      this.elf = ElfFile.open(vmlinux);
    } catch (error) {
      throw new UserError(`${vmlinux}: cannot read it as an ELF file (${(error as Error).message})`);
    }
    this.extents = this.elf.sections
      .filter((s) => (s.flags & SHF_ALLOC) !== 0n && s.type !== SHT_NOBITS && s.size > 0)
      .map((s) => ({ start: s.addr, end: s.addr + BigInt(s.size), offset: s.offset, name: s.name }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.index.symbols(name);
  }

  addressOf(name: string, sympos = 0): bigint {
    return this.index.addressOf(name, sympos, this.description);
  }

  read(address: bigint, length: number): Buffer {
    const extent = findExtent(this.extents, address);
    if (!extent || address + BigInt(length) > extent.end) {
      throw new UserError(`${this.description}: 0x${address.toString(16)}+${length} is not inside one section with file contents`);
    }
    return this.elf.source.read(extent.offset + Number(address - extent.start), length, `${extent.name} at 0x${address.toString(16)}`);
  }

  close(): void {
    this.elf.close();
  }
}

/** The extent holding `address` (extents sorted by start, not overlapping). */
export function findExtent<T extends { start: bigint; end: bigint }>(extents: readonly T[], address: bigint): T | undefined {
  let lo = 0;
  let hi = extents.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = extents[mid];
    if (address < e.start) hi = mid - 1;
    else if (address >= e.end) lo = mid + 1;
    else return e;
  }
  return undefined;
}
