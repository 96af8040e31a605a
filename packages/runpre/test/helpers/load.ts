// A tiny linker for unit tests: places an object's allocated sections at kernel addresses, applies its
// relocations (externals from a table) and lists its symbols as kallsyms would, giving a FixtureSource's parts.
import { type ElfObject, SHF_ALLOC, STB_LOCAL, STT_FUNC, STT_OBJECT, STT_SECTION, definedInSection } from '@hotsplice/elf';
import type { FixtureRegion, KernelSymbol } from '../../src';
import { fieldKind, fieldValue } from '../../src/fields';

export interface Loaded {
  regions: FixtureRegion[];
  symbols: KernelSymbol[];
  sectionAddress: Map<number, bigint>;
  /** Where a symbol of the object was placed. */
  addressOf(name: string): bigint;
  /** Overwrite memory (simulates the kernel patching a site, or a different build). */
  poke(address: bigint, bytes: number[]): void;
}

export function loadObject(elf: ElfObject, base: bigint, externals: Record<string, bigint>): Loaded {
  const sectionAddress = new Map<number, bigint>();
  const regions: FixtureRegion[] = [];
  let at = base;
  for (const s of elf.sections) {
    if ((s.flags & SHF_ALLOC) === 0n || s.size === 0) continue;
    at = (at + 15n) & ~15n;
    sectionAddress.set(s.index, at);
    regions.push({ address: at, bytes: Buffer.from(elf.sectionData(s.index)) });
    at += BigInt(s.size) + 64n;
  }
  const symbolAddress = (index: number): bigint => {
    const sym = elf.symbols[index];
    const section = definedInSection(sym);
    if (section !== undefined) return sectionAddress.get(section)! + sym.value;
    const value = externals[sym.name];
    if (value === undefined) throw new Error(`loadObject: no address for external ${sym.name}`);
    return value;
  };
  for (const [relaIndex, relocs] of elf.relocations) {
    const target = elf.section(relaIndex).info;
    const address = sectionAddress.get(target);
    if (address === undefined) continue;
    const bytes = regions.find((r) => r.address === address)!.bytes;
    for (const r of relocs) {
      const kind = fieldKind(r.type)!;
      const value = fieldValue(kind, symbolAddress(r.symbol), r.addend, address + r.offset);
      for (let i = 0; i < kind.width; i++) bytes[Number(r.offset) + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
  }
  const symbols: KernelSymbol[] = [];
  for (const s of elf.symbols) {
    const section = definedInSection(s);
    if (section === undefined || !s.name || s.type === STT_SECTION || !sectionAddress.has(section)) continue;
    if (s.type !== STT_FUNC && s.type !== STT_OBJECT) continue;
    const letter = s.type === STT_FUNC ? 't' : 'd';
    symbols.push({ name: s.name, address: sectionAddress.get(section)! + s.value, type: s.bind === STB_LOCAL ? letter : letter.toUpperCase() });
  }
  for (const [name, address] of Object.entries(externals)) symbols.push({ name, address, type: 'T' });
  const poke = (address: bigint, data: number[]) => {
    const region = regions.find((r) => address >= r.address && address + BigInt(data.length) <= r.address + BigInt(r.bytes.length));
    if (!region) throw new Error(`poke: 0x${address.toString(16)} is not loaded`);
    Buffer.from(region.bytes.buffer, region.bytes.byteOffset).set(data, Number(address - region.address));
  };
  const addressOf = (name: string) => {
    const s = symbols.find((x) => x.name === name);
    if (!s) throw new Error(`loadObject: ${name} was not placed`);
    return s.address;
  };
  return { regions, symbols, sectionAddress, addressOf, poke };
}
