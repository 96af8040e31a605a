import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffFiles, parseSymvers, readParent } from '../../src';
import { CMDLINE_C, VERSION_C, fakeModule, gccObject, linkExecutable } from '../helpers/gcc-objects';

// diffFiles and readParent are what both `hotsplice diff` and the Nx diff executor call: the input checks live
// there, so the pipeline refuses the same inputs the CLI does.
describe('objdiff input checks (diffFiles, readParent, parseSymvers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-objdiff-inputs-'));
  const out = join(dir, 'new.o');
  let pre: string;
  let post: string;
  let cmdline: string;
  beforeAll(() => {
    pre = gccObject(join(dir, 'pre'), 'version', VERSION_C);
    post = gccObject(join(dir, 'post'), 'version', VERSION_C.replace('"Linux"', '"Linux!"'));
    cmdline = gccObject(join(dir, 'pre'), 'cmdline', CMDLINE_C);
  });

  it('refuses a pair with no common STT_FILE', async () => {
    await expect(diffFiles([{ pre, post: cmdline, out }])).rejects.toThrow(`${cmdline}: not built from the same source as ${pre} (STT_FILE cmdline.c, not version.c)`);
  });

  it('without STT_FILE, needs half the defined symbol names in common', async () => {
    const strip = (object: string, name: string) => {
      const stripped = `${object}.nofile.o`;
      execFileSync('objcopy', ['--strip-symbol', name, object, stripped]);
      return stripped;
    };
    const [preBare, postBare, cmdlineBare] = [strip(pre, 'version.c'), strip(post, 'version.c'), strip(cmdline, 'cmdline.c')];
    await expect(diffFiles([{ pre: preBare, post: cmdlineBare, out }])).rejects.toThrow(
      `${cmdlineBare}: not built from the same source as ${preBare} (no STT_FILE; 0 of 1 defined symbol names in common)`,
    );
    const [result] = await diffFiles([{ pre: preBare, post: postBare, out }]);
    expect(result.exitCode).toBe(0);
    expect(result.report.changed).toEqual(['version_proc_show']);
  });

  it('refuses an executable as pre or post object', async () => {
    const exe = linkExecutable(post, join(dir, 'post.exe'));
    await expect(diffFiles([{ pre, post: exe, out }])).rejects.toThrow(`${exe}: ET_EXEC (executable), not a relocatable object (ET_REL); hotsplice diff takes kbuild's .o files`);
  });

  it('takes vmlinux (ET_EXEC) or a finished module of the named klp object as parent, nothing else', () => {
    const vmlinux = linkExecutable(pre, join(dir, 'vmlinux'));
    const module = fakeModule(join(dir, 'mod'), 'fake_mod');
    expect(readParent(vmlinux, 'vmlinux').map((s) => s.name)).toContain('version_proc_show');
    expect(readParent(module, 'fake-mod').map((s) => s.name)).toContain('fake_mod_function');
    expect(() => readParent(pre)).toThrow(`${pre}: ET_REL (relocatable) without .gnu.linkonce.this_module and .modinfo name=, neither vmlinux (ET_EXEC) nor a kernel module (.ko)`);
    expect(() => readParent(module, 'ext4')).toThrow(`${module}: module fake_mod, not module ext4`);
    expect(() => readParent(vmlinux, 'ext4')).toThrow(`${vmlinux}: vmlinux (ET_EXEC), not module ext4`);
  });

  it('parses Module.symvers lines and refuses the first other line by number', () => {
    expect([...parseSymvers('0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n0x039823de\tjbd2_x\tfs/jbd2/jbd2\tEXPORT_SYMBOL_GPL\tJBD2\n', 'S')]).toEqual(['phys_base', 'jbd2_x']);
    expect(() => parseSymvers('0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n\x7fELF\x02\x01\n', 'S')).toThrow(
      'S:2: not a Module.symvers line (0xCRC<TAB>symbol<TAB>module<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace): binary data',
    );
    expect(() => parseSymvers('0x4c9d28b0 phys_base vmlinux EXPORT_SYMBOL\n', 'S')).toThrow(/^S:1: .*: "0x4c9d28b0 phys_base vmlinux EXPORT_SYMBOL"$/);
    expect(() => parseSymvers('', 'S')).toThrow('S: no Module.symvers lines');
  });
});
