import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPrePost, ensureKbuildPlan, narrowHeaderChange } from '@hotsplice/tree';
import { mergedFile } from '../../src/merged-change';
import { unifiedDiff } from '../../../objdiff/test/helpers/debian-source';

// The header rule on Debian's tree, for the four kinds of change issue 13 names, made from include/linux/kthread.h
// itself (each patch is cut from the tree's own header at test time: nothing of the kernel is committed here) and
// real objects that use, or only include, what changes. gcc is the judge: each object is also compiled with kbuild's
// command before and after the patch (debug info stripped: line numbers of unchanged code move), and the narrowing
// must compile every object whose code changed, and here exactly the ones expected. Two of the changes go through one
// preprocessor run of a merged header (both versions in one), two through two runs.
const kernel = inject('kernel');
/** Source files are read here: another test may hold the shared tree patched. */
const pristineTree = inject('pristineTree');
const HEADER = 'include/linux/kthread.h';

interface Case {
  name: string;
  /** A string of the header and what it becomes. */
  find: string | RegExp;
  replace: string;
  /** Objects and whether the narrowing must compile them. */
  expect: Record<string, boolean>;
  /** One run of the merged header serves the two versions (mergedFile); else each unit is preprocessed twice. */
  merges: boolean;
}

const CASES: Case[] = [
  {
    name: 'changed inline body (kthread_run_on_cpu)',
    find: 'p = kthread_create_on_cpu(threadfn, data, cpu, namefmt);',
    replace: 'p = kthread_create_on_cpu(threadfn, data, cpu ^ 1, namefmt);',
    expect: { 'kernel/trace/trace_hwlat.o': true, 'kernel/audit.o': false },
    merges: true,
  },
  {
    name: 'changed macro used through another macro (kthread_create under kthread_run)',
    find: 'kthread_create_on_node(threadfn, data, NUMA_NO_NODE, namefmt, ##arg)',
    replace: 'kthread_create_on_node(threadfn, data, 0, namefmt, ##arg)',
    expect: { 'kernel/audit.o': true, 'fs/proc/version.o': false },
    merges: false, // a #define changes
  },
  {
    name: 'changed struct layout (struct kthread_work gains a field)',
    find: /(struct kthread_work \{\n\tstruct list_head\s+node;)/,
    replace: '$1\n\tunsigned long\t\tqueued_at;',
    expect: { 'drivers/spi/spi.o': true, 'fs/proc/version.o': false },
    merges: false, // a line more, and code after it
  },
  {
    name: 'new unused inline',
    find: /(#endif \/\* _LINUX_KTHREAD_H \*\/\s*)$/,
    replace: 'static inline int kthread_hotsplice_unused(void) { return 1; }\n$1',
    expect: { 'kernel/audit.o': false, 'kernel/kthread.o': false },
    merges: true,
  },
];

/** A -p1 patch of the header with `find` replaced. */
function patchOf(c: Case): string {
  const before = readFileSync(join(pristineTree, HEADER), 'utf8');
  const after = before.replace(c.find, c.replace);
  expect(after, `${c.name}: the header has the text to change`).not.toBe(before);
  return unifiedDiff(HEADER, before, after);
}

/** Whether the object's code differs between its pre and post build (`objcopy --strip-debug`, then bytes). */
function codeDiffers(out: string, object: string): boolean {
  const stripped = ['pre', 'post'].map((side) => {
    const file = join(out, `${side}.stripped.o`);
    execFileSync('objcopy', ['--strip-debug', join(out, side, object), file]);
    return readFileSync(file);
  });
  return !stripped[0]!.equals(stripped[1]!);
}

describe('header narrowing on the Debian tree (kthread.h), judged by gcc', () => {
  beforeAll(async () => {
    await ensureKbuildPlan(kernel);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const patches = [{ name: `${c.name}.patch`, text: patchOf(c) }];
      const header = readFileSync(join(pristineTree, HEADER), 'latin1');
      expect('text' in mergedFile(header, header.replace(c.find, c.replace)), 'one run of the merged header').toBe(c.merges);
      const objects = Object.keys(c.expect);
      const [file] = await narrowHeaderChange({ tree: kernel, patches, candidates: new Map([[HEADER, objects]]) });
      const compiled = new Map(file!.compile.map((x) => [x.object, x.reason]));
      const out = mkdtempSync(join(tmpdir(), 'hs-kthread-objects-'));
      await buildPrePost(kernel, patches, objects, out);
      for (const object of objects) {
        const witness = compiled.get(object)?.startsWith('witness') ?? false;
        const differs = codeDiffers(out, object);
        expect({ object, compiled: compiled.has(object) && !witness }).toEqual({ object, compiled: c.expect[object] });
        // Sound: gcc's objects differ only where the narrowing compiles; and the fixture shows its kind of change.
        if (differs) expect(compiled.has(object), `${object}: code changed but the narrowing skipped it`).toBe(true);
        expect(differs, `${object}: the expected verdict matches what gcc does`).toBe(c.expect[object]);
      }
      expect(file!.candidates).toBe(objects.length);
    });
  }
});
