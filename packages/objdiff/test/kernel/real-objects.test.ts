import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SHF_RELA_LIVEPATCH, SHN_LIVEPATCH, parseElf } from '@hotsplice/elf';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';
import { diffObjects, parseSymvers, readParent } from '../../src';

// Small real patches (bench/patches, written here) on real objects of Debian's tree, diffed against the real
// vmlinux symbol table and Module.symvers. Each expectation was checked by reading the objects' disassembly.
const kernel = inject('kernel');
const PATCHES = join(__dirname, '..', '..', '..', '..', 'bench', 'patches');
const EXPECT: Record<string, { object: string; objname: string; changed: string[]; newData: string[] }> = {
  'proc-version-marker.patch': { object: 'fs/proc/version.o', objname: 'vmlinux', changed: ['version_proc_show'], newData: [] },
  'proc-meminfo-field.patch': { object: 'fs/proc/meminfo.o', objname: 'vmlinux', changed: ['meminfo_proc_show'], newData: [] },
  'sched-yield.patch': { object: 'kernel/sched/core.o', objname: 'vmlinux', changed: ['yield'], newData: ['__already_done.2'] },
  'ext4-get-block.patch': { object: 'fs/ext4/inode.o', objname: 'ext4', changed: ['ext4_get_block'], newData: [] },
  'exit-mask.patch': { object: 'kernel/exit.o', objname: 'vmlinux', changed: [], newData: [] },
  // `tokens` is a local of five objects, four of them built from a file named inode.c (devpts, debugfs, tracefs, pstore).
  'debugfs-mode-mask.patch': { object: 'fs/debugfs/inode.o', objname: 'vmlinux', changed: ['debugfs_parse_options'], newData: [] },
};

describe('objdiff on real objects of the Debian tree', () => {
  const work = mkdtempSync(join(tmpdir(), 'hs-real-objects-'));
  let parent: ReturnType<typeof readParent>;
  let exported: Set<string>;

  beforeAll(async () => {
    parent = readParent(kernel.vmlinux);
    exported = parseSymvers(readFileSync(kernel.symvers, 'utf8'));
    for (const patch of readdirSync(PATCHES)) {
      const text = readFileSync(join(PATCHES, patch), 'utf8');
      await buildPrePost(kernel, [{ name: patch, text }], [EXPECT[patch].object], join(work, patch));
    }
  });

  it('has an expectation for every bench patch', () => {
    expect(readdirSync(PATCHES).sort()).toEqual(Object.keys(EXPECT).sort());
  });

  it.each(Object.entries(EXPECT))('%s changes exactly the expected functions', (patch, e) => {
    const text = readFileSync(join(PATCHES, patch), 'utf8');
    const read = (side: string) => parseElf(readFileSync(join(work, patch, side, e.object)));
    const { report, newCode, oldCode } = diffObjects(read('pre'), read('post'), {
      object: e.object,
      objname: e.objname,
      parent: e.objname === 'vmlinux' ? parent : undefined,
      exported,
      lineMap: lineMapFromPatch(text, e.object.replace(/\.o$/, '.c')),
    });
    expect(report.refused).toEqual([]);
    expect(report.changed).toEqual(e.changed);
    expect(report.new).toEqual([]);
    expect(report.newData).toEqual(e.newData);
    if (!e.changed.length) {
      expect(newCode).toBeUndefined();
      return;
    }
    // The outputs are valid objects that binutils accepts and links.
    const out = join(work, `${patch}.new.o`);
    writeFileSync(out, newCode!);
    writeFileSync(`${out}.old`, oldCode!);
    expect(execFileSync('readelf', ['-W', '-a', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).not.toMatch(/Warning|Error/);
    execFileSync('ld', ['-r', '-o', join(work, `${patch}.linked.o`), out]);
    const elf = parseElf(newCode!);
    const functions = elf.symbols.filter((s) => s.type === 2 && s.shndx !== 0).map((s) => s.name);
    expect(functions.filter((n) => !n.startsWith('__hotsplice_'))).toEqual(e.changed);
    expect(report.patched.map((p) => p.newSymbol)).toEqual(e.changed.map((n) => `__hotsplice_${e.objname}__${n}__0`));
    expect(functions.filter((n) => n.startsWith('__hotsplice_'))).toEqual(report.patched.map((p) => p.newSymbol));
    const old = parseElf(oldCode!);
    expect(old.symbols.filter((s) => s.type === 2 && s.shndx !== 0).map((s) => s.name)).toEqual(e.changed);
    // Every klp relocation section is flagged for livepatch and names this object.
    for (const s of elf.sections.filter((x) => x.name.startsWith('.klp.rela.'))) {
      expect(s.name.startsWith(`.klp.rela.${e.objname}.`) || s.name.startsWith('.klp.rela.vmlinux.')).toBe(true);
      expect(s.flags & SHF_RELA_LIVEPATCH).toBe(SHF_RELA_LIVEPATCH);
    }
    for (const s of elf.symbols.filter((x) => x.shndx === SHN_LIVEPATCH)) expect(s.name).toMatch(/^\.klp\.sym\.[\w-]+\.[^,]+,\d+$/);
  });

  it('tells same-named locals of objects whose sources share a basename apart by the object the file group holds', () => {
    const read = (side: string) => parseElf(readFileSync(join(work, 'debugfs-mode-mask.patch', side, 'fs/debugfs/inode.o')));
    const { newCode } = diffObjects(read('pre'), read('post'), { object: 'fs/debugfs/inode.o', parent, exported });
    const klp = parseElf(newCode!).symbols.filter((s) => s.shndx === SHN_LIVEPATCH).map((s) => s.name);
    const tokens = klp.find((n) => n.startsWith('.klp.sym.vmlinux.tokens,'))!;
    // System.map (kallsyms order): the sympos-th `tokens` sits among debugfs's own data.
    const map = readFileSync(kernel.systemMap, 'utf8').split('\n');
    const at = map.filter((l) => l.endsWith(' tokens')).map((l) => map.indexOf(l));
    const sympos = Number(tokens.split(',')[1]);
    expect(at.length).toBeGreaterThan(2);
    expect([map[at[sympos - 1]! - 1], map[at[sympos - 1]! + 1]].map((l) => l!.split(' ')[2])).toEqual(['debugfs_super_operations', 'debugfs_symlink_inode_operations']);
  });

  it('binds the example patch to the kernel: linux_proc_banner is not exported, so it goes through livepatch', () => {
    const read = (side: string) => parseElf(readFileSync(join(work, 'proc-version-marker.patch', side, 'fs/proc/version.o')));
    const { newCode } = diffObjects(read('pre'), read('post'), { parent, exported });
    const elf = parseElf(newCode!);
    expect(elf.symbols.filter((s) => s.shndx === SHN_LIVEPATCH).map((s) => s.name)).toEqual(['.klp.sym.vmlinux.linux_proc_banner,0']);
    expect(elf.symbols.filter((s) => s.shndx === 0 && s.name).map((s) => s.name).sort()).toEqual([
      '__fentry__', '__x86_return_thunk', 'current_task', 'seq_printf', 'seq_puts',
    ]);
  });
});
