// rebaseKlpRelocations' rules on a module of klp relocations of every kind, against System.map lines in the
// kernel's format (the real module and System.map: link's kernel test example.test.ts, and the busy e2e).
import { describe, expect, it } from 'vitest';
import { ObjectBuilder, R_X86_64_32S, R_X86_64_PC32, SHF_ALLOC, SHF_EXECINSTR, SHN_LIVEPATCH, STB_GLOBAL, parseElf } from '@hotsplice/elf';
import { KLP_RELA_FLAGS } from '../src';
import { rebaseKlpRelocations, systemMapAddresses } from '../src/klp-anchor';

const SYSTEM_MAP = [
  '0000000000000000 D __per_cpu_start',
  '0000000000000000 D fixed_percpu_data',
  '00000000000001ea A kexec_control_code_size',
  '0000000000031c40 D runqueues',
  '0000000000035000 D __per_cpu_end',
  'ffffffff81000000 T _text',
  'ffffffff818a6ff0 t tcp_v4_fill_cb',
  'ffffffff81900000 t twice',
  'ffffffff81900100 t twice',
  'ffffffff81a00000 t helper',
  'ffffffff82000000 d counter',
  'ffffffff84430000 B _end',
  '',
].join('\n');

/** A .text with one klp relocation per symbol (PC32, addend -4; 32S for the per-CPU one), in `.klp.rela.<obj>..text`. */
function moduleWith(entries: Array<{ symbol: string; obj?: string }>): Buffer {
  const b = new ObjectBuilder();
  const text = b.addSection({ name: '.text', flags: SHF_ALLOC | SHF_EXECINSTR, data: new Uint8Array(8 * entries.length), align: 16 });
  const sections = new Map<string, ReturnType<ObjectBuilder['addRelaSection']>>();
  entries.forEach((e, i) => {
    const obj = e.obj ?? 'vmlinux';
    const rela = sections.get(obj) ?? sections.set(obj, b.addRelaSection({ target: text, name: `.klp.rela.${obj}..text`, flags: KLP_RELA_FLAGS })).get(obj)!;
    const symbol = b.symbols.find((s) => s.name === e.symbol) ?? b.addSymbol({ name: e.symbol, section: SHN_LIVEPATCH, bind: STB_GLOBAL });
    const percpu = /runqueues|fixed_percpu_data/.test(e.symbol);
    rela.relocations.push({ offset: BigInt(8 * i), type: percpu ? R_X86_64_32S : R_X86_64_PC32, symbol, addend: percpu ? 8n : -4n });
  });
  return b.toBuffer();
}

const entries = (ko: Buffer) =>
  ObjectBuilder.fromElf(parseElf(ko)).relaSections.flatMap((r) => r.relocations.map((x) => `${r.name} ${x.symbol?.name} ${x.addend}`));

describe('rebaseKlpRelocations', () => {
  it('rebases name,0 onto _text,1 by the distance System.map gives, a per-CPU one to name,1, and leaves the rest to livepatch', () => {
    const ko = moduleWith([
      { symbol: '.klp.sym.vmlinux.tcp_v4_fill_cb,0' },
      { symbol: '.klp.sym.vmlinux.counter,0' },
      { symbol: '.klp.sym.vmlinux.tcp_v4_fill_cb,0' },
      { symbol: '.klp.sym.vmlinux.runqueues,0' },
      { symbol: '.klp.sym.vmlinux.fixed_percpu_data,0' },
      // kept: one at offset 0 (livepatch takes address 0 for "not found"), a name System.map has twice (livepatch refuses it, as before), one it lacks, a position, a module's symbol
      { symbol: '.klp.sym.vmlinux.twice,0' },
      { symbol: '.klp.sym.vmlinux.nowhere,0' },
      { symbol: '.klp.sym.vmlinux.helper,2' },
      { symbol: '.klp.sym.nfs.nfs_fn,0', obj: 'nfs' },
    ]);
    const out = rebaseKlpRelocations(ko, systemMapAddresses(SYSTEM_MAP));
    // kept: vmlinux relocations only (a module object's section is never touched)
    expect([out.rebased, out.kept]).toEqual([4, 4]);
    expect(entries(out.ko)).toEqual([
      `.klp.rela.vmlinux..text .klp.sym.vmlinux._text,1 ${0x8a6ff0 - 4}`,
      `.klp.rela.vmlinux..text .klp.sym.vmlinux._text,1 ${0x1000000 - 4}`,
      `.klp.rela.vmlinux..text .klp.sym.vmlinux._text,1 ${0x8a6ff0 - 4}`,
      '.klp.rela.vmlinux..text .klp.sym.vmlinux.runqueues,1 8',
      '.klp.rela.vmlinux..text .klp.sym.vmlinux.fixed_percpu_data,0 8',
      '.klp.rela.vmlinux..text .klp.sym.vmlinux.twice,0 -4',
      '.klp.rela.vmlinux..text .klp.sym.vmlinux.nowhere,0 -4',
      '.klp.rela.vmlinux..text .klp.sym.vmlinux.helper,2 -4',
      '.klp.rela.nfs..text .klp.sym.nfs.nfs_fn,0 -4',
    ]);
    // The new names are livepatch symbols like the rest.
    const added = ObjectBuilder.fromElf(parseElf(out.ko)).symbols.filter((s) => s.name.endsWith(',1') && !s.name.includes('helper'));
    expect(added.map((s) => [s.name, s.section, s.bind])).toEqual([
      ['.klp.sym.vmlinux._text,1', SHN_LIVEPATCH, STB_GLOBAL],
      ['.klp.sym.vmlinux.runqueues,1', SHN_LIVEPATCH, STB_GLOBAL],
    ]);
  });

  it('changes nothing when System.map has no image range (the placeholder Debian ships in the image package)', () => {
    const ko = moduleWith([{ symbol: '.klp.sym.vmlinux.tcp_v4_fill_cb,0' }]);
    const out = rebaseKlpRelocations(ko, systemMapAddresses('ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n'));
    expect([out.rebased, out.kept]).toEqual([0, 1]);
    expect(out.ko.equals(ko)).toBe(true);
  });
});
