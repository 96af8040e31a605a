import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError, ElfFile, SHT_GROUP, SHT_RELA, parseElf } from '../src';
import { CXX_SOURCE } from './helpers/fixtures';
import { Workdir } from './helpers/toolchain';

let work: Workdir;
let base: Buffer;

beforeAll(() => {
  work = new Workdir();
  base = work.compile('base', CXX_SOURCE, 'c++');
});
afterAll(() => work?.remove());

/** A copy of the base object with `edit` applied. */
function mutate(edit: (b: Buffer, info: Layout) => void): Buffer {
  const b = Buffer.from(base);
  edit(b, layout(base));
  return b;
}

interface Layout {
  shdr: (index: number) => number;
  index: (name: string) => number;
  obj: ReturnType<typeof parseElf>;
}

function layout(bytes: Buffer): Layout {
  const obj = parseElf(bytes);
  return {
    obj,
    shdr: (i) => obj.header.shoff + i * 64,
    index: (name) => obj.sectionByName(name)!.index,
  };
}

function expectElfError(bytes: Uint8Array, message: RegExp, offset?: number): ElfError {
  let caught: unknown;
  try {
    parseElf(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ElfError);
  const error = caught as ElfError;
  expect(error.message).toMatch(message);
  if (offset !== undefined) expect(error.offset).toBe(offset);
  return error;
}

describe('malformed input raises ElfError naming the problem', () => {
  it('too small, bad magic, wrong class / data / machine', () => {
    expectElfError(new Uint8Array(0), /too small for an ELF header/);
    expectElfError(base.subarray(0, 63), /too small/);
    expectElfError(mutate((b) => (b[1] = 0x58)), /bad magic/);
    expectElfError(mutate((b) => (b[4] = 1)), /not ELFCLASS64/, 4);
    expectElfError(mutate((b) => (b[5] = 2)), /not little-endian/, 5);
    expectElfError(mutate((b) => b.writeUInt16LE(3, 18)), /e_machine 3 is not x86-64/, 18);
    expect(parseElf(mutate((b) => b.writeUInt16LE(3, 18)), { anyMachine: true }).header.machine).toBe(3);
  });

  it('section header table and sections outside the file', () => {
    expectElfError(mutate((b) => b.writeBigUInt64LE(BigInt(base.length - 100), 40)), /section header table .* beyond the end/);
    expectElfError(mutate((b) => b.writeUInt16LE(40, 58)), /e_shentsize is 40/, 58);
    expectElfError(mutate((b) => b.writeUInt16LE(0xffff, 60)), /beyond the end/);
    const err = expectElfError(mutate((b, l) => b.writeBigUInt64LE(0x100000n, l.shdr(5) + 32)), /section \[5\].*beyond the end/);
    expect(err.offset).toBe(layout(base).shdr(5) + 24);
    expectElfError(mutate((b, l) => b.writeBigUInt64LE(1n << 60n, l.shdr(5) + 24)), /section \[5\] sh_offset 0x1000000000000000 is too large/, layout(base).shdr(5) + 24);
  });

  it('extended numbering pointing past the file', () => {
    // e_shnum = 0 means "count in section 0's sh_size"; a huge count must not allocate, just fail.
    const bytes = mutate((b, l) => {
      b.writeUInt16LE(0, 60);
      b.writeBigUInt64LE(0xffffffffn, l.shdr(0) + 32);
    });
    expectElfError(bytes, /too many|beyond the end/);
  });

  it('bad string tables and names', () => {
    expectElfError(mutate((b, l) => b.writeUInt32LE(l.index('.symtab'), 62)), /section name table \[\d+\] is SYMTAB, not STRTAB/);
    expectElfError(mutate((b, l) => b.writeUInt32LE(0x7fffffff, l.shdr(3))), /section name: name offset 2147483647 is outside/);
    const strtab = mutate((b, l) => {
      const s = l.obj.sectionByName('.strtab')!;
      b[s.offset + s.size - 1] = 0x41; // the last name loses its terminator
    });
    expectElfError(strtab, /is not NUL-terminated/);
    const symtab = layout(base).obj.sectionByName('.symtab')!;
    expectElfError(mutate((b) => b.writeUInt32LE(0xffffff, symtab.offset + 24 * 2)), /outside its string table/);
  });

  it('bad tables: entry sizes, relocation symbols, group members, SHN_XINDEX without a table', () => {
    const l = layout(base);
    const symtab = l.obj.sectionByName('.symtab')!;
    expectElfError(mutate((b) => b.writeBigUInt64LE(0n, l.shdr(symtab.index) + 56)), /sh_entsize is 0, expected 24/);
    expectElfError(mutate((b) => b.writeBigUInt64LE(BigInt(symtab.size - 1), l.shdr(symtab.index) + 32)), /not a multiple of 24/);

    const rela = l.obj.sections.find((s) => s.type === SHT_RELA)!;
    expectElfError(mutate((b) => b.writeUInt32LE(99999, rela.offset + 12)), /entry 0 refers to symbol 99999/, rela.offset + 12);
    expectElfError(mutate((b) => b.writeUInt32LE(l.index('.strtab'), l.shdr(rela.index) + 40)), /is not a symbol table/);

    const group = l.obj.sections.find((s) => s.type === SHT_GROUP)!;
    expectElfError(mutate((b) => b.writeUInt32LE(5000, group.offset + 4)), /member 0 is section 5000, which does not exist/, group.offset + 4);
    expectElfError(mutate((b) => b.writeBigUInt64LE(2n, l.shdr(group.index) + 32)), /not a whole number of 4-byte words/);

    expectElfError(mutate((b) => b.writeUInt16LE(0xffff, symtab.offset + 24 * 2 + 6)), /SHN_XINDEX but there is no SYMTAB_SHNDX/);
  });

  it('accepts Uint8Array as well as Buffer, and ElfFile reports the same errors', () => {
    expect(parseElf(new Uint8Array(base)).sections.length).toBe(layout(base).obj.sections.length);
    expect(() => ElfFile.fromBytes(mutate((b) => (b[4] = 1)))).toThrow(ElfError);
    const error = new ElfError('x', 16);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('x (at file offset 0x10)');
  });
});
