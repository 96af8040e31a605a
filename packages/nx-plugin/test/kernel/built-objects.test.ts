import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureKbuildPlan, plannedSources } from '@hotsplice/tree';
import { makePlan, planObjects, vmlinuxSources } from '../../src/affected';

// Which objects a patch rebuilds, on Debian's tree and config: kbuild's own plan (a dry run of the whole build),
// checked against what the -dbg vmlinux says it was compiled from and against the image's modules.
const kernel = inject('kernel');
/** Source files are read here: another test may hold the shared tree patched. */
const pristineTree = inject('pristineTree');

/** The objects planObjects rebuilds, refusing a file the config does not build. */
const objectsToBuild = async (...args: Parameters<typeof planObjects>) => (await planObjects(...args)).objects;

const touch = (path: string) => ({ name: `${path}.patch`, text: `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n` });

/** A real one-line change of a tree file (cut from the tree at test time). */
function changed(path: string, from: string, to: string) {
  const lines = readFileSync(join(pristineTree, path), 'utf8').split('\n');
  const at = lines.indexOf(from);
  expect(at, `${path} has the line to change`).toBeGreaterThanOrEqual(0);
  return { name: `${path}.patch`, text: `--- a/${path}\n+++ b/${path}\n@@ -${at + 1} +${at + 1} @@\n-${from}\n+${to}\n` };
}

describe('objects built in this kernel’s config', () => {
  beforeAll(() => ensureKbuildPlan(kernel));

  it('kbuild’s plan compiles every C file vmlinux was compiled from but the one link-vmlinux.sh compiles itself', async () => {
    const plan = (await plannedSources(kernel))!;
    const sources = [...vmlinuxSources(kernel.vmlinux)].filter((s) => s.includes('/') && existsSync(join(kernel.sourceTree, s)));
    expect(sources.length).toBeGreaterThan(2200);
    expect(sources.filter((s) => !plan.objectsOf(s).length)).toEqual(['init/version-timestamp.c']);
    // Objects kbuild names through relative paths, as their Makefiles write them.
    expect(plan.objectsOf('virt/kvm/kvm_main.c')).toEqual(['arch/x86/kvm/../../../virt/kvm/kvm_main.o']);
    expect(plan.objectsOf('tools/lib/bpf/relo_core.c')).toEqual(['kernel/bpf/relo_core.o']);
  });

  it('kbuild’s plan compiles every single-file module of the image package (modules.order)', async () => {
    const plan = (await plannedSources(kernel))!;
    const modules = readFileSync(join(kernel.modulesDir, 'modules.order'), 'utf8').split('\n').filter(Boolean);
    const sources = modules.map((m) => m.replace(/^kernel\//, '').replace(/\.ko$/, '.c')).filter((c) => existsSync(join(kernel.sourceTree, c)));
    expect(sources.length).toBeGreaterThan(2000);
    expect(sources.filter((s) => !plan.objectsOf(s).length)).toEqual([]);
  });

  it('leaves out what a Makefile builds only under a condition this config does not meet', async () => {
    const plan = (await plannedSources(kernel))!;
    // An `ifeq ($(CONFIG_PARISC),y)` block (drivers/char/ipmi) and `obj-$(CONFIG_X86_32)` (arch/x86/net): the
    // proc_fs.h and kthread.h header patches of issue 13 failed compiling these.
    expect(plan.objectsOf('drivers/char/ipmi/ipmi_si_parisc.c')).toEqual([]);
    expect(plan.objectsOf('arch/x86/net/bpf_jit_comp32.c')).toEqual([]);
    expect(plan.objectsOf('drivers/auxdisplay/ks0108.c')).toEqual([]);
    expect(plan.objectsOf('drivers/gpu/drm/panel/panel-samsung-s6d16d0.c')).toEqual([]);
  });

  it('a built file is its own object; an included one affects its includer; an unbuilt one is refused by name', async () => {
    expect(await objectsToBuild(kernel, [touch('fs/proc/version.c'), touch('mm/memory.c')])).toEqual(['fs/proc/version.o', 'mm/memory.o']);
    expect(await objectsToBuild(kernel, [touch('drivers/staging/rtl8723bs/core/rtw_mlme.c')])).toEqual(['drivers/staging/rtl8723bs/core/rtw_mlme.o']);
    // A .c file only others include goes through the plan step like a header (here: a changed definition).
    // A value no earlier run used: the narrowing's answer is kept per change, and the first check needs none yet.
    const value = 950001 + (Date.now() % 100_000);
    const rt = changed('kernel/sched/rt.c', 'int sysctl_sched_rt_runtime = 950000;', `int sysctl_sched_rt_runtime = ${value};`);
    await expect(objectsToBuild(kernel, [rt])).rejects.toThrow('narrowing is not made yet');
    await makePlan(kernel, [rt], () => undefined);
    expect(await objectsToBuild(kernel, [rt])).toEqual(['kernel/sched/build_policy.o']);
    await makePlan(kernel, [touch('fs/ntfs3/super.c')], () => undefined);
    await expect(objectsToBuild(kernel, [touch('fs/ntfs3/super.c')])).rejects.toThrow("fs/ntfs3/super.c is not built in this kernel's config");
    await expect(objectsToBuild(kernel, [touch('arch/arm64/kernel/setup.c')])).rejects.toThrow('narrowing is not made yet');
  });
});
