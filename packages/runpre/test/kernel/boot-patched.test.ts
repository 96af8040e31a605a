import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseElf } from '@hotsplice/elf';
import { type KernelSymbol, type MemorySource, NOP5, RET_INT3, VmlinuxSource, matchObject } from '../../src';
import { ObjectIndex } from '../../src/object-model';
import { patchSites } from '../../src/sites';
import { buildPristineObjects } from '../helpers/real-objects';

// The live kernel differs from the vmlinux file at patch sites. This test patches the file's bytes as the kernel
// does at boot, at the sites vmlinux's OWN tables list (__mcount_loc, .return_sites, .smp_locks,
// .retpoline_sites), and checks that the matcher, which finds sites through the object's tables, accepts them.
const kernel = inject('kernel');
const OBJECT = 'kernel/sched/core.o';
const work = mkdtempSync(join(tmpdir(), 'hs-runpre-boot-'));

type Rewrite = (bytes: Buffer) => number[] | undefined;

/** vmlinux's bytes with boot-time patching applied at the sites of its own tables; kind 'live'. */
class BootPatchedSource implements MemorySource {
  readonly kind = 'live' as const;
  readonly description = 'vmlinux patched as at boot';
  private readonly sites = new Map<bigint, { rewrite: Rewrite; kind: string }>();
  readonly counts: Record<string, number> = {};

  constructor(private readonly file: VmlinuxSource) {
    const range = (start: string, end: string) => {
      const from = file.addressOf(start);
      return file.read(from, Number(file.addressOf(end) - from));
    };
    const relative = (start: string, end: string, kind: string, rewrite: Rewrite) => {
      const from = file.addressOf(start);
      const table = range(start, end);
      for (let at = 0; at + 4 <= table.length; at += 4) this.sites.set(from + BigInt(at) + BigInt(table.readInt32LE(at)), { rewrite, kind });
    };
    const mcount = range('__start_mcount_loc', '__stop_mcount_loc');
    for (let at = 0; at + 8 <= mcount.length; at += 8) this.sites.set(mcount.readBigUInt64LE(at), { rewrite: () => [...NOP5], kind: 'fentry' });
    // ftrace_init(): fentry → nop; patch_return(): jmp __x86_return_thunk → ret; int3…; alternatives_smp_unlock(): lock → ds;
    // patch_retpoline(): call/jmp __x86_indirect_thunk_rax → call/jmp *%rax + nops.
    relative('__return_sites', '__return_sites_end', 'return-thunk', (b) => (b[0] === 0xe9 ? [...RET_INT3] : undefined));
    relative('__smp_locks', '__smp_locks_end', 'lock-prefix', (b) => (b[0] === 0xf0 ? [0x3e] : undefined));
    // (-mindirect-branch-cs-prefix puts a cs prefix before some: 6 bytes.)
    relative('__retpoline_sites', '__retpoline_sites_end', 'retpoline', (b) => {
      const cs = b[0] === 0x2e ? [0x90] : [];
      const op = b[cs.length];
      return op === 0xe8 ? [0xff, 0xd0, 0x90, 0x90, 0x90, ...cs] : op === 0xe9 ? [0xff, 0xe0, 0x90, 0x90, 0x90, ...cs] : undefined;
    });
  }

  symbols(name: string): readonly KernelSymbol[] {
    return this.file.symbols(name);
  }

  addressOf(name: string, sympos?: number): bigint {
    return this.file.addressOf(name, sympos);
  }

  read(address: bigint, length: number): Buffer {
    const bytes = Buffer.from(this.file.read(address, length));
    for (let i = 0; i < length; i++) {
      const site = this.sites.get(address + BigInt(i));
      if (!site) continue;
      const patched = site.rewrite(bytes.subarray(i));
      if (!patched || i + patched.length > length) continue;
      bytes.set(patched, i);
      this.counts[site.kind] = (this.counts[site.kind] ?? 0) + 1;
    }
    return bytes;
  }
}

let file: VmlinuxSource;
beforeAll(async () => {
  file = new VmlinuxSource(kernel.vmlinux, kernel.systemMap);
  await buildPristineObjects(kernel, [OBJECT], work);
});
afterAll(() => file?.close());

describe('kernel/sched/core.o against vmlinux patched at its own site tables', () => {
  it('every function matches; each patched site is reported with its kind', async () => {
    const live = new BootPatchedSource(file);
    const report = await matchObject(parseElf(readFileSync(join(work, OBJECT))), live, { object: OBJECT });
    expect(report.functions.filter((f) => f.status !== 'matched' && f.status !== 'skipped').map((f) => f.name)).toEqual([]);
    const reported: Record<string, number> = {};
    const seen = new Set<string>(); // aliases (__x64_sys_sched_yield = __do_sys_sched_yield) report the same sites
    for (const f of report.functions) {
      if (f.status !== 'matched') continue;
      for (const s of f.patchedSites) {
        const key = `${f.address + BigInt(s.offset)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        reported[s.kind] = (reported[s.kind] ?? 0) + 1;
      }
    }
    console.log(`core.o, boot-patched: ${report.matched} matched, ${report.functions.filter((f) => f.status === 'skipped').length} init skipped; sites reported ${JSON.stringify(reported)}`);
    // Exactly the object's own table entries inside the compared (non-init) functions, for each kind patched here.
    const index = new ObjectIndex(parseElf(readFileSync(join(work, OBJECT))));
    const listed: Record<string, number> = {};
    for (const [section, sites] of patchSites(index)) {
      if (index.elf.section(section).name.startsWith('.init.text')) continue;
      for (const s of sites) if (['fentry', 'return-thunk', 'lock-prefix', 'retpoline'].includes(s.kind)) listed[s.kind] = (listed[s.kind] ?? 0) + 1;
    }
    expect(reported).toEqual(listed);
    expect(reported.fentry).toBeGreaterThan(200);
    expect(reported['return-thunk']).toBeGreaterThan(300);
  });

  it('a site the object does not list is not a wildcard: do_sched_yield with its first plain byte changed fails there', async () => {
    const live = new BootPatchedSource(file);
    const at = file.addressOf('do_sched_yield');
    const original = live.read.bind(live);
    live.read = (address: bigint, length: number) => {
      const bytes = original(address, length);
      if (address === at) bytes[5] ^= 0xff; // first byte after the fentry site
      return bytes;
    };
    const report = await matchObject(parseElf(readFileSync(join(work, OBJECT))), live, { object: OBJECT, functions: ['do_sched_yield'] });
    expect(report.functions[0]).toMatchObject({ status: 'mismatch', address: at, difference: { offset: 5, reason: 'code differs' } });
  });
});
