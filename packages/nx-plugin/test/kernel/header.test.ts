import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPrePost, cmdFileOf, compileObjects, ensureKbuildPlan, objectsIncludingEach, parseCmdFile, withTreeLock } from '@hotsplice/tree';
import { builtSources, makePlan } from '../../src/affected';
import { createNodes } from '../../src/index';
import { unifiedDiff } from '../../../objdiff/test/helpers/debian-source';

// A header patch: its candidates are exactly the objects kbuild records as reading the header (each object's
// .<obj>.cmd, scripts/basic/fixdep.c); the graph then holds only those whose code can change, and gcc agrees:
// compiled before and after the patch, every other candidate keeps its code.
const kernel = inject('kernel');
/** Source files are read here: another test may hold the shared tree patched. */
const pristineTree = inject('pristineTree');
const HEADER = 'fs/proc/internal.h';
/** The header's pde_has_proc_lseek() returns the opposite (cut from the tree's own header at test time). */
function invertLseekCheck(): string {
  const before = readFileSync(join(pristineTree, HEADER), 'utf8');
  const after = before.replace(/(pde_has_proc_lseek\(const struct proc_dir_entry \*pde\)\n\{\n\treturn )(.*);/, '$1!($2);');
  expect(after).not.toBe(before);
  return unifiedDiff(HEADER, before, after);
}

/** The object projects createNodes makes for a workspace whose hotpatch.json carries PATCH, or the kernel targets. */
async function graphFor(ws: string): Promise<{ objects: string[]; kernelTargets: string[] }> {
  const [, fn] = createNodes;
  const [[, result]] = await fn(['hotpatch.json'], undefined, { workspaceRoot: ws, nxJsonConfiguration: {} });
  const roots = Object.keys(result.projects ?? {});
  return {
    objects: roots.filter((root) => root !== '.').map((root) => root.replace('.hotsplice-kernel/', '')).sort(),
    kernelTargets: Object.keys(result.projects?.['.']?.targets ?? {}).sort(),
  };
}

describe('header patches', () => {
  let candidates: string[];
  let truth: string[];
  const ws = mkdtempSync(join(tmpdir(), 'hs-header-'));
  const reads = (object: string) => parseCmdFile(readFileSync(join(kernel.sourceTree, cmdFileOf(object)), 'utf8')).deps.includes(HEADER);
  let PATCH: string;
  beforeAll(async () => {
    PATCH = invertLseekCheck();
    writeFileSync(join(ws, 'header.patch'), PATCH);
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: 'header_fix', patches: ['header.patch'] }));
    await ensureKbuildPlan(kernel);
    candidates = (await objectsIncludingEach(kernel.sourceTree, [HEADER], (await builtSources(kernel))!)).get(HEADER)!;
    await withTreeLock(kernel.sourceTree, () => compileObjects(kernel, ['fs/proc/', ...candidates.filter((o) => !o.startsWith('fs/proc/'))]));
    const inDir = readdirSync(join(kernel.sourceTree, 'fs/proc'))
      .filter((name) => /^\..*\.o\.cmd$/.test(name))
      .map((name) => `fs/proc/${name.slice(1, -'.cmd'.length)}`);
    truth = [...new Set([...inDir, ...candidates])].filter(reads).sort();
  });

  it('takes as candidates exactly the objects kbuild says read the header', () => {
    expect(truth.length).toBeGreaterThan(15);
    expect(truth).toContain('fs/proc_namespace.o'); // outside the header's directory: #include "proc/internal.h"
    expect(candidates).toEqual(truth);
  });

  it('gives the pipeline only the objects whose code can change, after the plan step has narrowed them', async () => {
    const before = await graphFor(ws);
    // Seen for the first time (or after the rule changed): prepare, plan, then Nx again.
    if (!before.objects.length) expect(before.kernelTargets).toEqual(['hotpatch', 'plan', 'prepare', 'try']);
    const {
      files: [narrowed],
    } = await makePlan(kernel, [{ name: 'header.patch', text: PATCH }], () => undefined);
    expect(narrowed).toMatchObject({ path: HEADER, candidates: truth.length });
    expect(narrowed!.compile).toEqual([{ object: 'fs/proc/inode.o', reason: 'uses pde_has_proc_lseek' }]);
    expect((await graphFor(ws)).objects).toEqual(['fs/proc/inode.o']);
  });

  it('leaves out only candidates whose code gcc does not change', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hs-header-objects-'));
    await buildPrePost(kernel, [{ name: 'header.patch', text: PATCH }], truth, out);
    const changed = truth.filter((object) => {
      const [pre, post] = ['pre', 'post'].map((side) => {
        execFileSync('objcopy', ['--strip-debug', join(out, side, object), join(out, `${side}.o`)]);
        return readFileSync(join(out, `${side}.o`));
      });
      return !pre!.equals(post!);
    });
    expect(changed).toEqual(['fs/proc/inode.o']); // the one object the graph holds
  });
});
