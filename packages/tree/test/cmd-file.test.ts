// kbuild's `.X.o.cmd` records as 6.1 and 6.12 write them: 6.2 renamed the command line from `cmd_X.o` to
// `savedcmd_X.o` (scripts/Kbuild.include). Reading only the old name made 6.12's module objects look like vmlinux
// ones (drivers/net/dummy.o built into klp object "vmlinux") and never reused a recorded command.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCmdFile } from '../src/deps';
import { recordedCommand } from '../src/fresh';
import { parseKbuildCmd } from '../src/kbuild-cmd';

const CC = 'x86_64-linux-gnu-gcc-14';
const line = (name: string) =>
  `${name}_drivers/net/dummy.o := ${CC} -Wp,-MMD,drivers/net/.dummy.o.d -O2 -ffunction-sections -fdata-sections -fdebug-prefix-map=TREE=. -gno-column-info -DMODULE -DKBUILD_BASENAME='"dummy"' -DKBUILD_MODNAME='"dummy"' -D__KBUILD_MODNAME=kmod_dummy -c -o drivers/net/dummy.o drivers/net/dummy.c\n\nsource_drivers/net/dummy.o := drivers/net/dummy.c\n\ndeps_drivers/net/dummy.o := \\\n  include/linux/kconfig.h \\\n\n`;

describe('kbuild .cmd records of 6.1 (cmd_) and 6.12 (savedcmd_)', () => {
  it('reads the module and the dependencies from both', () => {
    for (const name of ['cmd', 'savedcmd']) {
      expect(parseCmdFile(line(name)), name).toEqual({ deps: ['drivers/net/dummy.c', 'include/linux/kconfig.h'], module: 'dummy' });
      expect(parseKbuildCmd(line(name)).cc, name).toBe(CC);
    }
  });

  it('reuses a 6.12 recorded command', async () => {
    const tree = await mkdtemp(join(tmpdir(), 'hs-savedcmd-'));
    await mkdir(join(tree, 'include/config'), { recursive: true });
    await writeFile(join(tree, 'include/config/auto.conf'), 'CONFIG_DUMMY=m\n');
    await mkdir(join(tree, 'drivers/net'), { recursive: true });
    await writeFile(join(tree, 'drivers/net/.dummy.o.cmd'), line('savedcmd').replace('TREE', tree));
    expect(await recordedCommand(tree, 'drivers/net/dummy.o', CC)).toMatch(/^x86_64-linux-gnu-gcc-14 .* -c -o drivers\/net\/dummy\.o drivers\/net\/dummy\.c$/);
  });
});
