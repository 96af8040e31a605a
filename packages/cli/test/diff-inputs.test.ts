import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hotsplice } from './helpers/run-cli';
import { CMDLINE_C, VERSION_C, fakeModule, gccObject, linkExecutable } from '../../objdiff/test/helpers/gcc-objects';

// `hotsplice diff` refuses inputs that are not a pre/post pair of one source, a vmlinux/module parent and a
// Module.symvers: exit 1 and one line naming the file and the cause.

describe('hotsplice diff inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-diff-inputs-'));
  const out = join(dir, 'new.o');
  let pre: string;
  let post: string;
  let cmdline: string;
  let vmlinux: string;
  let module: string;
  beforeAll(() => {
    pre = gccObject(join(dir, 'pre'), 'version', VERSION_C);
    post = gccObject(join(dir, 'post'), 'version', VERSION_C.replace('"Linux"', '"Linux!"'));
    cmdline = gccObject(join(dir, 'pre'), 'cmdline', CMDLINE_C);
    vmlinux = linkExecutable(pre, join(dir, 'vmlinux'));
    module = fakeModule(join(dir, 'mod'), 'fakemod');
  });

  it('diffs a real pair against an ET_EXEC parent and a well-formed Module.symvers (exit 0)', async () => {
    const symvers = join(dir, 'good.symvers');
    writeFileSync(symvers, '0x12345678\tseq_printf\tvmlinux\tEXPORT_SYMBOL\t\n0x9abcdef0\tinit_uts_ns\tvmlinux\tEXPORT_SYMBOL_GPL\tNS\n');
    const r = await hotsplice('diff', pre, post, '--parent', vmlinux, '--symvers', symvers, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${post}: changed version_proc_show; new - -> ${out}\n`);
    expect(r.code).toBe(0);
  });

  it('refuses objects of two different sources (version.o vs cmdline.o), not "no functional change"', async () => {
    const r = await hotsplice('diff', pre, cmdline, '--parent', vmlinux, '--out', out);
    expect(r.stderr).toBe(`hotsplice: ${cmdline}: not built from the same source as ${pre} (STT_FILE cmdline.c, not version.c)\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(1);
  });

  it('refuses an ET_EXEC post object', async () => {
    const r = await hotsplice('diff', pre, vmlinux, '--parent', vmlinux, '--out', out);
    expect(r.stderr).toBe(`hotsplice: ${vmlinux}: ET_EXEC (executable), not a relocatable object (ET_REL); hotsplice diff takes kbuild's .o files\n`);
    expect(r.code).toBe(1);
  });

  it('refuses a plain relocatable object as --parent', async () => {
    const r = await hotsplice('diff', pre, post, '--parent', cmdline, '--out', out);
    expect(r.stderr).toBe(
      `hotsplice: ${cmdline}: ET_REL (relocatable) without .gnu.linkonce.this_module and .modinfo name=, neither vmlinux (ET_EXEC) nor a kernel module (.ko)\n`,
    );
    expect(r.code).toBe(1);
  });

  it('takes a module as --parent for its own --objname only', async () => {
    expect((await hotsplice('diff', pre, post, '--parent', module, '--objname', 'fakemod', '--out', out)).code).toBe(0);
    const r = await hotsplice('diff', pre, post, '--parent', module, '--out', out);
    expect(r.stderr).toBe(`hotsplice: ${module}: module fakemod, not vmlinux\n`);
    expect(r.code).toBe(1);
  });

  it('refuses a garbage --symvers at its first bad line', async () => {
    const symvers = join(dir, 'bad.symvers');
    writeFileSync(symvers, '0x12345678\tseq_printf\tvmlinux\tEXPORT_SYMBOL\t\ngarbage\n0x1\tx\n');
    const r = await hotsplice('diff', pre, post, '--parent', vmlinux, '--symvers', symvers, '--out', out);
    expect(r.stderr).toBe(
      `hotsplice: ${symvers}:2: not a Module.symvers line (0xCRC<TAB>symbol<TAB>module<TAB>EXPORT_SYMBOL[_GPL]<TAB>namespace): "garbage"\n`,
    );
    expect(r.code).toBe(1);
  });
});
