// Debian's own fixes between consecutive bookworm kernels, diffed as the pipeline diffs them: the older version's
// file is pre, the newer one's post, both compiled in the prepared tree (which holds the newest), and the parent is
// the module's .ko from the image package. The source files come from Debian's linux-source packages at test time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type ElfObject, SHN_LIVEPATCH, parseElf } from '@hotsplice/elf';
import { buildPrePost, lineMapFromPatch } from '@hotsplice/tree';
import { diffObjects, parseSymvers, readParent } from '../../src';
import { debianSourceFile, unifiedDiff } from '../helpers/debian-source';

const kernel = inject('kernel');
/** Source files are read here: another test may hold the shared tree patched. */
const pristineTree = inject('pristineTree');

interface Fix {
  /** Debian versions: the fix is what `to` changed in `path` relative to `from`. */
  from: string;
  to: string;
  path: string;
  module: string;
  ko: string;
}

const FIXES: Record<string, Fix> = {
  'nfsd 6.1.192-2 -> -3': { from: '6.1.192-2', to: '6.1.192-3', path: 'fs/nfsd/nfs4state.c', module: 'nfsd', ko: 'kernel/fs/nfsd/nfsd.ko' },
  'ext4 6.1.192-1 -> -2': { from: '6.1.192-1', to: '6.1.192-2', path: 'fs/ext4/mballoc.c', module: 'ext4', ko: 'kernel/fs/ext4/ext4.ko' },
};

/** Build both sides in the prepared tree: its file is the newer version, so a patch back to the older one gives pre. */
async function buildFix(fix: Fix, out: string): Promise<{ pre: ElfObject; post: ElfObject; forward: string }> {
  const tree = readFileSync(join(pristineTree, fix.path), 'utf8');
  const older = debianSourceFile(fix.from, fix.path);
  expect(tree, `the prepared tree's ${fix.path} is ${fix.to}'s`).toBe(debianSourceFile(fix.to, fix.path));
  const object = fix.path.replace(/\.c$/, '.o');
  await buildPrePost(kernel, [{ name: `to-${fix.from}.patch`, text: unifiedDiff(fix.path, tree, older) }], [object], out);
  // buildPrePost's pre is the pristine tree (the fix applied), its post the older file: swap them.
  return {
    pre: parseElf(readFileSync(join(out, 'post', object))),
    post: parseElf(readFileSync(join(out, 'pre', object))),
    forward: unifiedDiff(fix.path, older, tree),
  };
}

describe("objdiff on Debian's own fixes (module objects, the module's .ko as parent)", () => {
  const work = mkdtempSync(join(tmpdir(), 'hs-debian-fixes-'));
  const built = new Map<string, Awaited<ReturnType<typeof buildFix>>>();
  let exported: Set<string>;

  beforeAll(async () => {
    exported = parseSymvers(readFileSync(kernel.symvers, 'utf8'));
    for (const [name, fix] of Object.entries(FIXES)) built.set(name, await buildFix(fix, join(work, fix.module)));
  });

  const diff = (name: string) => {
    const fix = FIXES[name];
    const { pre, post, forward } = built.get(name)!;
    return diffObjects(pre, post, {
      object: fix.path.replace(/\.c$/, '.o'),
      objname: fix.module,
      parent: readParent(join(kernel.modulesDir, fix.ko), fix.module),
      exported,
      lineMap: lineMapFromPatch(forward, fix.path),
    });
  };

  /** The new code is an object binutils reads without complaint and links (`ld -r`, as kbuild will). */
  const linkable = (name: string, newCode: Buffer | undefined) => {
    const out = join(work, `${name.split(' ')[0]}.new.o`);
    writeFileSync(out, newCode!);
    expect(execFileSync('readelf', ['-W', '-a', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).not.toMatch(/Warning|Error/);
    execFileSync('ld', ['-r', '-o', `${out}.linked`, out]);
  };
  const klpSymbols = (newCode: Buffer | undefined) => parseElf(newCode!).symbols.filter((x) => x.shndx === SHN_LIVEPATCH).map((x) => x.name).sort();
  const undefinedSymbols = (newCode: Buffer | undefined) => parseElf(newCode!).symbols.filter((x) => x.rawShndx === 0 && x.name).map((x) => x.name);

  // Before: `__func__.10: changed existing data: size 25 -> 15` and `__func__.9: size 15 -> 25`. Both strings are
  // unchanged; gcc swapped their symbol-table order between the two builds, and they were paired in that order.
  it('nfsd 6.1.192-2 -> -3 changes nfsd4_sequence only, its __func__ strings bound by content', () => {
    const { report, newCode } = diff('nfsd 6.1.192-2 -> -3');
    linkable('nfsd', newCode);
    expect(report.refused).toEqual([]);
    expect(report.changed).toEqual(['nfsd4_sequence']);
    expect(report.new).toEqual([]);
    expect(report.newData).toEqual([]);
    expect(report.patched).toEqual([{ name: 'nfsd4_sequence', oldName: 'nfsd4_sequence', sympos: 0, newSymbol: '__hotsplice_nfsd__nfsd4_sequence__0' }]);
    // nfsd.ko has two of each __func__.N (no STT_FILE): .10 "nfsd4_sequence" and .9 "nfsd4_replay_cache_entry"
    // come first in its symbol table, .13 "check_slot_seqid" too. The hot and cold parts jump into each other's
    // new copies, never into the originals (no klp symbol names nfsd4_sequence or its cold part). sunrpc's exports
    // are klp symbols too, resolved when nfsd loads (after sunrpc): the update does not depend on sunrpc.
    expect(klpSymbols(newCode)).toEqual([
      '.klp.sym.nfsd.__func__.10,1', '.klp.sym.nfsd.__func__.13,1', '.klp.sym.nfsd.__func__.9,1',
      '.klp.sym.nfsd.find_in_sessionid_hashtbl,0', '.klp.sym.nfsd.nfsd4_conn_lost,0', '.klp.sym.nfsd.nfsd4_encode_operation,0',
      '.klp.sym.nfsd.nfsd4_max_reply,0', '.klp.sym.nfsd.nfsd4_put_session_locked,0', '.klp.sym.nfsd.nfsd_net_id,0',
      '.klp.sym.nfsd.same_creds,0',
      '.klp.sym.sunrpc.__xdr_commit_encode,0', '.klp.sym.sunrpc.nfsd_debug,0', '.klp.sym.sunrpc.svc_reserve,0',
      '.klp.sym.sunrpc.svc_xprt_put,0', '.klp.sym.sunrpc.xdr_encode_opaque_fixed,0', '.klp.sym.sunrpc.xdr_reserve_space,0',
      '.klp.sym.sunrpc.xdr_restrict_buflen,0',
    ]);
    // All of them in nfsd's own sections: livepatch applies them when nfsd loads.
    expect(parseElf(newCode!).sections.filter((x) => x.name.startsWith('.klp.rela.')).map((x) => x.name.split('.')[3])).toSatisfy((objects: string[]) => objects.every((o) => o === 'nfsd'));
  });

  // Before: `__SCT__might_resched: static key defined in module ext4` (twice) and `__func__.25: local symbol
  // __func__.25 appears 5 times in the parent, none from mballoc.c`.
  it('ext4 6.1.192-1 -> -2 changes the two folio lookups; might_resched is vmlinux\'s, __func__.25 the 3rd of ext4.ko', () => {
    const { report, newCode } = diff('ext4 6.1.192-1 -> -2');
    linkable('ext4', newCode);
    expect(report.refused).toEqual([]);
    expect(report.changed).toEqual(['ext4_mb_init_group', 'ext4_mb_load_buddy_gfp']);
    expect(report.new).toEqual([]);
    expect(report.newData).toEqual([]);
    expect(report.patched.map((p) => p.newSymbol)).toEqual(['__hotsplice_ext4__ext4_mb_init_group__0', '__hotsplice_ext4__ext4_mb_load_buddy_gfp__0']);
    // ext4.ko's five __func__.25 are, in symbol-table order: ext4_split_extent_at, ext4_write_begin,
    // ext4_mb_load_buddy_gfp, ext4_handle_dirty_dx_node, ext4_xattr_inode_get.
    expect(klpSymbols(newCode)).toEqual([
      '.klp.sym.ext4.__func__.25,3', '.klp.sym.ext4._rs.24,0', '.klp.sym.ext4._rs.26,0',
      '.klp.sym.ext4.ext4_get_group_info,0', '.klp.sym.ext4.ext4_mb_init_cache,0',
    ]);
    // The static call trampoline is vmlinux's export (Module.symvers): a plain relocation, not a module key.
    expect(undefinedSymbols(newCode)).toContain('__SCT__might_resched');
  });
});
