import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ElfError, type ElfObject, GRP_COMDAT, ObjectBuilder, R_X86_64_64, R_X86_64_NONE, R_X86_64_PC32, R_X86_64_PLT32, SHF_ALLOC,
  SHF_EXECINSTR, SHF_GROUP, SHF_INFO_LINK, SHF_LINK_ORDER, SHF_MERGE, SHF_RELA_LIVEPATCH, SHF_STRINGS, SHF_WRITE,
  SHN_ABS, SHN_LIVEPATCH, SHN_UNDEF, SHT_NOBITS, SHT_PROGBITS, SHT_RELA, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STB_WEAK,
  STT_FILE, STT_FUNC, STT_OBJECT, STV_HIDDEN, parseElf, writeElf,
} from '../src';
import { groupsView, plainSectionsView, relocationsView, symbolsView } from './helpers/compare';
import { ASM_SOURCE, C_SOURCE, CXX_SOURCE } from './helpers/fixtures';
import { expectMatchesReadelf } from './helpers/oracle';
import { Workdir, readelf, run } from './helpers/toolchain';

let work: Workdir;
const inputs: { name: string; bytes: Buffer }[] = [];

beforeAll(() => {
  work = new Workdir();
  inputs.push({ name: 'c', bytes: work.compile('c', C_SOURCE, 'c') });
  inputs.push({ name: 'cxx', bytes: work.compile('cxx', CXX_SOURCE, 'c++') });
  inputs.push({ name: 'asm', bytes: work.compile('asm', ASM_SOURCE, 'asm') });
});
afterAll(() => work?.remove());

/** readelf -W -a must succeed without a single warning; returns its output. */
function expectReadelfClean(file: string): string {
  const result = run('sh', ['-c', `readelf -W -a '${file}' 2>&1 >/dev/null; echo "rc=$?"`]);
  expect(result.trim()).toBe('rc=0');
  return readelf('-a', file);
}

describe('writeElf: in-place serialization', () => {
  it.each(['c', 'cxx', 'asm'])('%s object round-trips byte-identical (also with zero-filled gaps)', (name) => {
    const { bytes } = inputs.find((i) => i.name === name)!;
    const obj = parseElf(bytes);
    expect(writeElf(obj).equals(bytes)).toBe(true);
    // Without copying gaps from the original, every byte still matches: all of it is encoded from the model.
    expect(writeElf(obj, { keepGaps: false }).equals(bytes)).toBe(true);
  });

  it('writes edited values in place and readelf sees them', () => {
    const { bytes } = inputs.find((i) => i.name === 'c')!;
    const obj = parseElf(bytes);
    const classify = obj.sectionByName('.text.classify')!;
    const rela = obj.relocationSectionsFor(classify.index)[0];
    obj.relocations.get(rela.index)![1].addend = 0x7edcba9876543210n;
    obj.symbolByName('shared_value')!.value = 0xffffffff81234567n;
    obj.sectionByName('.data.shared_value')!.addr = 0x1000n;
    const out = writeElf(obj);
    let changed = 0;
    for (let i = 0; i < out.length; i++) if (out[i] !== bytes[i]) changed++;
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(8 + 8 + 8);
    work.write('edited.o', out);
    const edited = parseElf(out);
    expect(edited.relocations.get(rela.index)![1].addend).toBe(0x7edcba9876543210n);
    expectMatchesReadelf(edited, work.path('edited.o'));
  });

  it('refuses edits that change the layout, pointing to ObjectBuilder', () => {
    const { bytes } = inputs.find((i) => i.name === 'c')!;
    const grown = parseElf(bytes);
    grown.symbols.push({ ...grown.symbols[1], index: grown.symbols.length });
    expect(() => writeElf(grown)).toThrow(/sizes changed, use ObjectBuilder/);
    const renamed = parseElf(bytes);
    renamed.symbolByName('classify')!.name = 'classify2';
    expect(() => writeElf(renamed)).toThrow(/renamed.*use ObjectBuilder/);
    const fewer = parseElf(bytes);
    fewer.sections.pop();
    expect(() => writeElf(fewer)).toThrow(ElfError);
    const badValue = parseElf(bytes);
    badValue.relocations.get(badValue.sections.find((s) => s.type === SHT_RELA)!.index)![0].type = -1;
    expect(() => writeElf(badValue)).toThrow(/relocation 0 of .*cannot encode/);
  });
});

describe('ObjectBuilder.fromElf: rebuilt objects', () => {
  it.each(['c', 'cxx', 'asm'])('%s object: readelf clean, ld -r accepts, contents read back equal', (name) => {
    const { bytes } = inputs.find((i) => i.name === name)!;
    const original = parseElf(bytes);
    const built = ObjectBuilder.fromElf(original).toBuffer();
    const file = work.write(`${name}.built.o`, built);
    expectReadelfClean(file);
    const rebuilt = parseElf(built);
    expectMatchesReadelf(rebuilt, file);

    // Same sections in the same order with the same bytes; same symbols, relocations and groups. (For GNU as
    // output even the indices match: it orders sections the way the builder does.)
    expect(rebuilt.sections.map((s) => s.name)).toEqual(original.sections.map((s) => s.name));
    expect(plainSectionsView(rebuilt)).toEqual(plainSectionsView(original));
    expect(symbolsView(rebuilt)).toEqual(symbolsView(original));
    expect(relocationsView(rebuilt)).toEqual(relocationsView(original));
    expect(groupsView(rebuilt)).toEqual(groupsView(original));
    expect(rebuilt.header.osabi).toBe(original.header.osabi);

    run('ld', ['-r', '-o', work.path(`${name}.linked.o`), file]);
    const linked = parseElf(work.read(`${name}.linked.o`));
    expectMatchesReadelf(linked, work.path(`${name}.linked.o`));
  });
});

/** x86-64 machine code for the from-scratch test. */
const CODE = {
  answer: [0xe8, 0, 0, 0, 0, 0x83, 0xc0, 0x01, 0xc3], // call helper; add $1,%eax; ret
  helper: [0xb8, 41, 0, 0, 0, 0xc3], // mov $41,%eax; ret
  getMessage: [0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3], // mov message_ptr(%rip),%rax; ret
  weakFn: [0xb8, 7, 0, 0, 0, 0xc3], // mov $7,%eax; ret
};

function buildProgramObject(): { b: ObjectBuilder; helperSection: ReturnType<ObjectBuilder['addSection']> } {
  const b = new ObjectBuilder();
  const text = SHF_ALLOC | SHF_EXECINSTR;
  // A global defined before the locals: the output must still list locals first.
  const answerSection = b.addSection({ name: '.text.answer', flags: text, align: 16, data: Uint8Array.from(CODE.answer) });
  b.addSymbol({ name: 'answer', section: answerSection, size: CODE.answer.length, type: STT_FUNC });
  b.addSymbol({ name: 'built.c', section: SHN_ABS, bind: STB_LOCAL, type: STT_FILE });
  const helperSection = b.addSection({ name: '.text.helper', flags: text, align: 16, data: Uint8Array.from(CODE.helper) });
  const helper = b.addSymbol({ name: 'helper', section: helperSection, size: CODE.helper.length, type: STT_FUNC, bind: STB_LOCAL });
  b.addRela(answerSection, { offset: 1, type: R_X86_64_PLT32, symbol: helper, addend: -4 });

  const strings = b.addSection({ name: '.rodata.str1.1', flags: SHF_ALLOC | SHF_MERGE | SHF_STRINGS, entsize: 1, data: Buffer.from('hello\0builder\0') });
  const pointer = b.addSection({ name: '.data.message_ptr', flags: SHF_ALLOC | SHF_WRITE, align: 8, data: new Uint8Array(8) });
  const messagePtr = b.addSymbol({ name: 'message_ptr', section: pointer, size: 8, type: STT_OBJECT, bind: STB_LOCAL });
  b.addRela(pointer, { offset: 0, type: R_X86_64_64, symbol: b.sectionSymbol(strings), addend: 6 });
  const getMessageSection = b.addSection({ name: '.text.get_message', flags: text, align: 16, data: Uint8Array.from(CODE.getMessage) });
  b.addSymbol({ name: 'get_message', section: getMessageSection, size: CODE.getMessage.length, type: STT_FUNC });
  b.addRela(getMessageSection, { offset: 3, type: R_X86_64_PC32, symbol: messagePtr, addend: -4 });

  const weakSection = b.addSection({ name: '.text.weak_fn', flags: text, align: 16, data: Uint8Array.from(CODE.weakFn) });
  const weakFn = b.addSymbol({ name: 'weak_fn', section: weakSection, size: CODE.weakFn.length, type: STT_FUNC, bind: STB_WEAK });
  b.addRela(weakSection, { offset: 0, type: R_X86_64_NONE, symbol: null });
  b.addGroup({ signature: weakFn, members: [weakSection] });

  const bss = b.addSection({ name: '.bss.counter', type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, align: 4, size: 4 });
  b.addSymbol({ name: 'counter', section: bss, size: 4, type: STT_OBJECT, visibility: STV_HIDDEN });
  b.addSection({ name: '.meta.answer', flags: SHF_ALLOC | SHF_LINK_ORDER, align: 1, data: Uint8Array.from([1, 2, 3]), link: answerSection });
  b.addSection({ name: '.note.GNU-stack', data: new Uint8Array(0) });
  return { b, helperSection };
}

describe('ObjectBuilder from scratch', () => {
  it('writes an object that readelf, ld -r and a real link accept, and that runs correctly', () => {
    const { b } = buildProgramObject();
    const file = work.write('built.o', b.toBuffer());
    expectReadelfClean(file);
    const obj = parseElf(work.read('built.o'));
    expectMatchesReadelf(obj, file);

    // Locals first; .symtab sh_info = first non-local.
    const symtab = obj.sections.find((s) => s.type === SHT_SYMTAB)!;
    const firstGlobal = obj.symbols.findIndex((s) => s.index > 0 && s.bind !== STB_LOCAL);
    expect(symtab.info).toBe(firstGlobal);
    expect(obj.symbols.slice(1, firstGlobal).every((s) => s.bind === STB_LOCAL)).toBe(true);
    expect(obj.symbols.slice(firstGlobal).map((s) => s.name)).toEqual(['answer', 'get_message', 'weak_fn', 'counter']);

    // Generated sections: relocation sections right after their targets, with SHF_INFO_LINK; group first, members flagged.
    const names = obj.sections.map((s) => s.name);
    expect(names.slice(0, 4)).toEqual(['', '.group', '.text.answer', '.rela.text.answer']);
    expect(names.slice(-3)).toEqual(['.symtab', '.strtab', '.shstrtab']);
    const relaAnswer = obj.sectionByName('.rela.text.answer')!;
    expect(relaAnswer).toMatchObject({ type: SHT_RELA, flags: SHF_INFO_LINK, link: symtab.index, info: obj.sectionByName('.text.answer')!.index, entsize: 24, addralign: 8 });
    expect(obj.sectionByName('.text.weak_fn')!.flags & SHF_GROUP).toBe(SHF_GROUP);
    expect(obj.sectionByName('.rela.text.weak_fn')!.flags & SHF_GROUP).toBe(SHF_GROUP);
    expect(obj.groups.get(1)).toEqual({ flags: GRP_COMDAT, members: [obj.sectionByName('.text.weak_fn')!.index, obj.sectionByName('.rela.text.weak_fn')!.index] });
    expect(obj.sectionByName('.meta.answer')!.link).toBe(obj.sectionByName('.text.answer')!.index);
    for (const s of obj.sections) if (s.addralign > 1 && s.type !== SHT_NOBITS) expect(s.offset % s.addralign).toBe(0);
    // Tail merging in .shstrtab: ".text.answer" lives inside ".rela.text.answer".
    expect(obj.sectionByName('.text.answer')!.nameOffset).toBe(relaAnswer.nameOffset + 5);

    run('ld', ['-r', '-o', work.path('built.linked.o'), file]);
    work.write('main.c', [
      '#include <string.h>',
      'extern int answer(void); extern const char *get_message(void); extern int weak_fn(void); extern int counter;',
      'int main(void) { return !(answer() == 42 && strcmp(get_message(), "builder") == 0 && weak_fn() == 7 && counter == 0); }',
    ].join('\n'));
    run('gcc-12', ['-no-pie', '-o', work.path('prog'), work.path('main.c'), work.path('built.linked.o')]);
    expect(() => run(work.path('prog'), [])).not.toThrow(); // exit status 0: every relocation resolved as intended
  });

  it('removeSection drops relocations, section symbols and group membership; dangling uses are reported', () => {
    const { b } = buildProgramObject();
    const weak = b.sectionByName('.text.weak_fn')!;
    const removed = b.removeSection(weak);
    expect(removed.map((s) => s.name)).toEqual(['weak_fn']);
    expect(b.groups).toEqual([]); // its only member is gone
    expect(b.relaSectionsFor(weak)).toEqual([]);
    const obj = parseElf(b.toBuffer());
    expect(obj.sectionByName('.text.weak_fn')).toBeUndefined();
    expect(obj.groups.size).toBe(0);

    // helper is used by a relocation in .text.answer: removing its section must not silently drop the use.
    const dangling = buildProgramObject();
    dangling.b.removeSection(dangling.helperSection);
    expect(() => dangling.b.toBuffer()).toThrow(/relocation 0 in \.rela\.text\.answer refers to symbol "helper", which is not in the builder/);

    // Keep it as an undefined reference instead.
    const kept = buildProgramObject();
    kept.b.undefineSymbol(kept.b.symbolByName('helper')!);
    kept.b.removeSection(kept.helperSection);
    const file = work.write('undefined-helper.o', kept.b.toBuffer());
    expectReadelfClean(file);
    const helper = parseElf(work.read('undefined-helper.o')).symbolByName('helper')!;
    expect(helper).toMatchObject({ shndx: SHN_UNDEF, bind: STB_GLOBAL, value: 0n });
  });

  it('livepatch-style relocation sections and symbols (custom names, flags, SHN_LIVEPATCH)', () => {
    const b = new ObjectBuilder();
    const text = b.addSection({ name: '.text.patched', flags: SHF_ALLOC | SHF_EXECINSTR, align: 16, data: Uint8Array.from(CODE.answer) });
    b.addSymbol({ name: 'patched', section: text, size: CODE.answer.length, type: STT_FUNC });
    const klpSym = b.addSymbol({ name: '.klp.sym.vmlinux.helper,0', section: SHN_LIVEPATCH, type: STT_FUNC });
    const rela = b.addRelaSection({ target: text, name: '.klp.rela.vmlinux..text.patched', flags: SHF_ALLOC | SHF_RELA_LIVEPATCH });
    rela.relocations.push({ offset: 1n, type: R_X86_64_PC32, symbol: klpSym, addend: -4n });
    const file = work.write('klp.o', b.toBuffer());
    expectReadelfClean(file);
    const obj = parseElf(work.read('klp.o'));
    const section = obj.sectionByName('.klp.rela.vmlinux..text.patched')!;
    expect(section.flags).toBe(SHF_ALLOC | SHF_RELA_LIVEPATCH | SHF_INFO_LINK);
    expect(obj.symbolByName('.klp.sym.vmlinux.helper,0')!.rawShndx).toBe(SHN_LIVEPATCH);
    expect(obj.relocationsFor(obj.sectionByName('.text.patched')!.index)).toEqual([{ offset: 1n, type: R_X86_64_PC32, symbol: obj.symbolByName('.klp.sym.vmlinux.helper,0')!.index, addend: -4n }]);
  });

  it('rejects what cannot be written, with ElfError', () => {
    const badAlign = new ObjectBuilder();
    badAlign.addSection({ name: '.x', align: 3, data: new Uint8Array(1) });
    expect(() => badAlign.toBuffer()).toThrow(/alignment 3 is not 0 or a power of two/);
    const badSpecial = new ObjectBuilder();
    badSpecial.addSymbol({ name: 's', section: 5 });
    expect(() => badSpecial.toBuffer()).toThrow(/must be a section object or a special index/);
    const badName = new ObjectBuilder();
    badName.addSymbol({ name: 'a\0b' });
    expect(() => badName.toBuffer()).toThrow(/not a non-NUL byte/);
    expect(() => new ObjectBuilder().addSection({ name: '.symtab', type: SHT_SYMTAB })).toThrow(ElfError);
    const foreign = new ObjectBuilder();
    const elsewhere = new ObjectBuilder().addSection({ name: '.elsewhere', type: SHT_PROGBITS });
    foreign.addSymbol({ name: 'x', section: elsewhere });
    expect(() => foreign.toBuffer()).toThrow(/defined in section \.elsewhere, which is not in the builder/);
  });

  it('keeps large sh_addralign but pads file offsets to at most 4096', () => {
    const b = new ObjectBuilder();
    b.addSection({ name: '.small', flags: SHF_ALLOC, data: Uint8Array.of(1) });
    b.addSection({ name: '.huge_align', flags: SHF_ALLOC, align: 1 << 21, data: Uint8Array.of(2) });
    const bytes = b.toBuffer();
    expect(bytes.length).toBeLessThan(8192);
    const file = work.write('aligned.o', bytes);
    expectReadelfClean(file);
    const section = parseElf(bytes).sectionByName('.huge_align')!;
    expect(section.addralign).toBe(1 << 21);
    expect(section.offset % 4096).toBe(0);
    run('ld', ['-r', '-o', work.path('aligned.linked.o'), file]);
    expect(parseElf(work.read('aligned.linked.o')).sectionByName('.huge_align')!.addralign).toBe(1 << 21);
  });

  it('an empty builder still writes a valid object', () => {
    const file = work.write('empty.o', new ObjectBuilder().toBuffer());
    expectReadelfClean(file);
    const obj: ElfObject = parseElf(work.read('empty.o'));
    expect(obj.sections.map((s) => s.name)).toEqual(['', '.symtab', '.strtab', '.shstrtab']);
    expect(obj.symbols.length).toBe(1);
  });
});
