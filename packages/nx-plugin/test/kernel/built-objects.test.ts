import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { KbuildConfig } from '@hotsplice/tree';
import { planObjects, vmlinuxSources } from '../../src/affected';

// Which objects a patch rebuilds, on Debian's tree and config: the Makefiles read by KbuildConfig, checked against
// what the -dbg vmlinux says it was compiled from.
const kernel = inject('kernel');

/** The objects planObjects rebuilds, refusing a file the config does not build. */
const objectsToBuild = async (...args: Parameters<typeof planObjects>) => (await planObjects(...args)).objects;

const touch = (path: string) => ({ name: `${path}.patch`, text: `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n` });

describe('objects built in this kernel’s config', () => {
  it('KbuildConfig finds every C file vmlinux was compiled from but three that kbuild adds outside its lists', async () => {
    const config = await KbuildConfig.load(kernel.sourceTree);
    const sources = [...vmlinuxSources(kernel.vmlinux)].filter((s) => s.includes('/') && existsSync(join(kernel.sourceTree, s)));
    expect(sources.length).toBeGreaterThan(2200);
    const missed: string[] = [];
    for (const source of sources) if (!(await config.built(source.replace(/\.c$/, '.o')))) missed.push(source);
    // vdso32-setup.o: `obj-$(VDSO32-y)`, no config option; version-timestamp.o: linked by link-vmlinux.sh;
    // tools/lib/bpf/relo_core.c: kernel/bpf/Makefile builds relo_core.o from it by a rule of its own.
    expect(missed).toEqual(['arch/x86/entry/vdso/vdso32-setup.c', 'tools/lib/bpf/relo_core.c', 'init/version-timestamp.c']);
  });

  it('KbuildConfig finds every single-file module of the image package (modules.order)', async () => {
    const config = await KbuildConfig.load(kernel.sourceTree);
    const modules = readFileSync(join(kernel.modulesDir, 'modules.order'), 'utf8').split('\n').filter(Boolean);
    const objects = modules.map((m) => m.replace(/^kernel\//, '').replace(/\.ko$/, '.o')).filter((o) => existsSync(join(kernel.sourceTree, o.replace(/\.o$/, '.c'))));
    expect(objects.length).toBeGreaterThan(2000);
    const missed: string[] = [];
    for (const object of objects) if (!(await config.built(object))) missed.push(object);
    expect(missed).toEqual([]);
  });

  it('a Makefile whose every line is off in this config builds nothing there (no x86 panel driver)', async () => {
    const config = await KbuildConfig.load(kernel.sourceTree);
    expect(await config.built('drivers/gpu/drm/panel/panel-samsung-s6d16d0.o')).toBe(false);
    expect(await config.built('drivers/perf/arm-cmn.o')).toBe(false);
  });

  it('a built file is its own object; an included one affects its includer; an unbuilt one is refused by name', async () => {
    expect(await objectsToBuild(kernel, [touch('fs/proc/version.c'), touch('mm/memory.c')])).toEqual(['fs/proc/version.o', 'mm/memory.o']);
    expect(await objectsToBuild(kernel, [touch('kernel/sched/rt.c')])).toEqual(['kernel/sched/build_policy.o']);
    expect(await objectsToBuild(kernel, [touch('drivers/staging/rtl8723bs/core/rtw_mlme.c')])).toEqual(['drivers/staging/rtl8723bs/core/rtw_mlme.o']);
    await expect(objectsToBuild(kernel, [touch('fs/ntfs3/super.c')])).rejects.toThrow("fs/ntfs3/super.c is not built in this kernel's config");
    await expect(objectsToBuild(kernel, [touch('arch/arm64/kernel/setup.c')])).rejects.toThrow("arch/arm64/kernel/setup.c is not built in this kernel's config");
  });
});
