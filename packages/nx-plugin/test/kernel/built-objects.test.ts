import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { KbuildConfig } from '@hotsplice/tree';
import { objectsToBuild, vmlinuxSources } from '../../src/affected';

// Which objects a patch rebuilds, on Debian's tree and config: the Makefiles read by KbuildConfig, checked against
// what the -dbg vmlinux says it was compiled from.
const kernel = inject('kernel');

const touch = (path: string) => ({ name: `${path}.patch`, text: `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n` });

describe('objects built in this kernel’s config', () => {
  it('KbuildConfig finds every C file vmlinux was compiled from but two that kbuild adds outside the lists', async () => {
    const config = await KbuildConfig.load(kernel.sourceTree);
    const sources = [...vmlinuxSources(kernel.vmlinux)].filter((s) => s.includes('/') && existsSync(join(kernel.sourceTree, s)));
    expect(sources.length).toBeGreaterThan(2200);
    const missed: string[] = [];
    for (const source of sources) if (!(await config.built(source.replace(/\.c$/, '.o')))) missed.push(source);
    expect(missed).toEqual(['arch/x86/entry/vdso/vdso32-setup.c', 'init/version-timestamp.c']);
  });

  it('a built file is its own object; an included one affects its includer; an unbuilt one is refused by name', async () => {
    expect(await objectsToBuild(kernel, [touch('fs/proc/version.c'), touch('mm/memory.c')])).toEqual(['fs/proc/version.o', 'mm/memory.o']);
    expect(await objectsToBuild(kernel, [touch('kernel/sched/rt.c')])).toEqual(['kernel/sched/build_policy.o']);
    expect(await objectsToBuild(kernel, [touch('drivers/staging/rtl8723bs/core/rtw_mlme.c')])).toEqual(['drivers/staging/rtl8723bs/core/rtw_mlme.o']);
    await expect(objectsToBuild(kernel, [touch('fs/ntfs3/super.c')])).rejects.toThrow("fs/ntfs3/super.c is not built in this kernel's config");
    await expect(objectsToBuild(kernel, [touch('arch/arm64/kernel/setup.c')])).rejects.toThrow("arch/arm64/kernel/setup.c is not built in this kernel's config");
  });
});
