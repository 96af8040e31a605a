// A hand-assembled pre object with one patch site of every kind the kernel rewrites, each listed in its table the
// way gcc, objtool and the kernel's macros list them, so each wildcard can be tested at a known offset.
import {
  type BuildSection, type BuildSymbol, type ElfObject, ObjectBuilder, R_X86_64_32S, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32,
  SHF_ALLOC, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE, STB_LOCAL, STB_WEAK, STT_FUNC, STT_OBJECT,
} from '@hotsplice/elf';

/** Offsets of the sites inside f. */
export const F = {
  fentry: 0,
  stringField: 8,
  printkField: 13,
  lock: 17,
  counterField: 20,
  helperField: 25,
  alternative: 29,
  staticCall: 34,
  retpoline: 39,
  jumpLabel: 44,
  paravirt: 46,
  /** An alternative whose original is an instruction plus nops (optimize_nops may re-encode them). */
  alternativeMov: 52,
  /** An alternative whose replacement is a jmp (recompute_jump may shorten it to jmp8). */
  alternativeJmp: 57,
  returnThunk: 62,
  size: 70,
};

const TEXT = SHF_ALLOC | SHF_EXECINSTR;

/** External symbols f refers to, with the kernel addresses the fixture kernel gives them. */
export const EXTERNALS: Record<string, bigint> = {
  __fentry__: 0xffffffff81a00000n,
  printk: 0xffffffff81a00100n,
  __x86_return_thunk: 0xffffffff81a00200n,
  __SCT__tp_foo: 0xffffffff81a00300n,
  __SCK__tp_foo: 0xffffffff82a00000n,
  __x86_indirect_thunk_rax: 0xffffffff81a00400n,
  pv_ops: 0xffffffff82a00100n,
  key_x: 0xffffffff82a00200n,
  __static_call_return0: 0xffffffff81a00500n,
};

interface Rel {
  at: number;
  type: number;
  to: BuildSymbol;
  addend: number;
}

export function sampleObject(): ElfObject {
  const b = new ObjectBuilder();
  const ext = (name: string) => b.undefinedSymbol(name);
  const code = (name: string, bytes: number[], rels: (self: BuildSection) => Rel[]) => {
    const section = b.addSection({ name: `.text.${name}`, flags: TEXT, align: 16, data: Uint8Array.from(bytes) });
    for (const r of rels(section)) b.addRela(section, { offset: r.at, type: r.type, symbol: r.to, addend: r.addend });
    return section;
  };
  const table = (name: string, entry: number, entries: Array<{ data?: Array<[number, number]>; rels: Rel[] }>) => {
    const bytes = new Uint8Array(entry * entries.length);
    const section = b.addSection({ name, flags: SHF_ALLOC, data: bytes });
    entries.forEach((e, i) => {
      for (const [at, value] of e.data ?? []) bytes[i * entry + at] = value;
      for (const r of e.rels) b.addRela(section, { offset: i * entry + r.at, type: r.type, symbol: r.to, addend: r.addend });
    });
  };

  const rodataStr = b.addSection({ name: '.rodata.str1.1', flags: SHF_ALLOC | SHF_MERGE | SHF_STRINGS, entsize: 1, data: Buffer.from('hello\n\0') });
  const data = b.addSection({ name: '.data', flags: SHF_ALLOC | SHF_WRITE, align: 8, data: new Uint8Array(8) });
  const counter = b.addSymbol({ name: 'counter', section: data, value: 0, size: 4, bind: STB_LOCAL, type: STT_OBJECT });
  // stac; mov %rax,%rsi; jmp rel32 (to f+67, relocated below)
  const replacement = b.addSection({ name: '.altinstr_replacement', flags: TEXT, data: Uint8Array.from([0x0f, 0x01, 0xcb, 0x48, 0x89, 0xc6, 0xe9, 0, 0, 0, 0]) });

  const helperText = code('helper', [0xe8, 0, 0, 0, 0, 0x31, 0xc0, 0xe9, 0, 0, 0, 0], () => [
    { at: 1, type: R_X86_64_PLT32, to: ext('__fentry__'), addend: -4 },
    { at: 8, type: R_X86_64_PLT32, to: ext('__x86_return_thunk'), addend: -4 },
  ]);
  const helper = b.addSymbol({ name: 'helper', section: helperText, size: 12, bind: STB_LOCAL, type: STT_FUNC });

  // prettier-ignore
  const fBytes = [
    0xe8, 0, 0, 0, 0, //                0: call __fentry__
    0x48, 0xc7, 0xc7, 0, 0, 0, 0, //    5: mov $"hello\n", %rdi
    0xe8, 0, 0, 0, 0, //               12: call printk
    0xf0, 0xff, 0x05, 0, 0, 0, 0, //   17: lock incl counter(%rip)
    0xe8, 0, 0, 0, 0, //               24: call helper
    0x0f, 0x1f, 0x44, 0x00, 0x00, //   29: ALTERNATIVE("", "stac", X86_FEATURE_SMAP)
    0xe8, 0, 0, 0, 0, //               34: static_call(tp_foo)
    0xe8, 0, 0, 0, 0, //               39: call __x86_indirect_thunk_rax
    0x66, 0x90, //                     44: static_branch_unlikely(&key_x) → label at 57
    0xff, 0x15, 0, 0, 0, 0, //         46: call *pv_ops+8(%rip) (paravirt)
    0x48, 0x89, 0xc7, 0x90, 0x90, //   52: ALTERNATIVE("mov %rax,%rdi", "mov %rax,%rsi", X)
    0x0f, 0x1f, 0x44, 0x00, 0x00, //   57: ALTERNATIVE("", "jmp 67f", X)
    0xe9, 0, 0, 0, 0, //               62: jmp __x86_return_thunk
    0xc3, 0xcc, 0xcc, //               67: ret (the jump label's target)
  ];
  const fText = code('f', fBytes, () => [
    { at: 1, type: R_X86_64_PLT32, to: ext('__fentry__'), addend: -4 },
    { at: 8, type: R_X86_64_32S, to: b.sectionSymbol(rodataStr), addend: 0 },
    { at: 13, type: R_X86_64_PLT32, to: ext('printk'), addend: -4 },
    { at: 20, type: R_X86_64_PC32, to: counter, addend: -4 },
    { at: 25, type: R_X86_64_PLT32, to: helper, addend: -4 },
    { at: 35, type: R_X86_64_PLT32, to: ext('__SCT__tp_foo'), addend: -4 },
    { at: 40, type: R_X86_64_PLT32, to: ext('__x86_indirect_thunk_rax'), addend: -4 },
    { at: 48, type: R_X86_64_PC32, to: ext('pv_ops'), addend: 8 - 4 },
    { at: 63, type: R_X86_64_PLT32, to: ext('__x86_return_thunk'), addend: -4 },
  ]);
  b.addSymbol({ name: 'f', section: fText, size: F.size, type: STT_FUNC });

  // A static call trampoline (ARCH_DEFINE_STATIC_CALL_TRAMP): jmp target; 2-byte nop; ud1 %esp,%ecx signature.
  const trampoline = code('__SCT__tp_bar', [0xe9, 0, 0, 0, 0, 0x66, 0x90, 0x0f, 0xb9, 0xcc], () => [{ at: 1, type: R_X86_64_PLT32, to: ext('__static_call_return0'), addend: -4 }]);
  b.addSymbol({ name: '__SCT__tp_bar', section: trampoline, size: 10, type: STT_FUNC });

  const wText = code('w', [0x31, 0xc0, 0xc3], () => []);
  b.addSymbol({ name: 'w', section: wText, size: 3, bind: STB_WEAK, type: STT_FUNC });

  const f = b.sectionSymbol(fText);
  const at = (section: BuildSection, offset: number, type = R_X86_64_PC32): Rel => ({ at: 0, type, to: b.sectionSymbol(section), addend: offset });
  const shifted = (r: Rel, by: number): Rel => ({ ...r, at: r.at + by });
  table('__mcount_loc', 8, [{ rels: [at(fText, F.fentry, R_X86_64_64)] }, { rels: [at(helperText, 0, R_X86_64_64)] }]);
  table('.smp_locks', 4, [{ rels: [at(fText, F.lock)] }]);
  b.addRela(replacement, { offset: 7, type: R_X86_64_PC32, symbol: f, addend: 67 - 4 });
  table('.altinstructions', 12, [
    { data: [[8, 0x14], [10, 5], [11, 3]], rels: [at(fText, F.alternative), shifted(at(replacement, 0), 4)] },
    { data: [[8, 0x15], [10, 5], [11, 3]], rels: [at(fText, F.alternativeMov), shifted(at(replacement, 3), 4)] },
    { data: [[8, 0x16], [10, 5], [11, 5]], rels: [at(fText, F.alternativeJmp), shifted(at(replacement, 6), 4)] },
  ]);
  table('.static_call_sites', 8, [{ rels: [at(fText, F.staticCall), { at: 4, type: R_X86_64_PC32, to: ext('__SCK__tp_foo'), addend: 0 }] }]);
  table('.retpoline_sites', 4, [{ rels: [at(fText, F.retpoline)] }]);
  table('__jump_table', 16, [{ rels: [at(fText, F.jumpLabel), shifted(at(fText, 67), 4), { at: 8, type: R_X86_64_64, to: ext('key_x'), addend: 0 }] }]);
  table('.parainstructions', 16, [{ data: [[8, 3], [9, 6]], rels: [{ at: 0, type: R_X86_64_64, to: f, addend: F.paravirt }] }]);
  table('.return_sites', 4, [{ rels: [at(fText, F.returnThunk)] }, { rels: [at(helperText, 7)] }]);
  return b.toElf();
}
