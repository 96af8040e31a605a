import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { cmdFileOf, compileObjects, objectsIncluding, parseCmdFile, withTreeLock } from '@hotsplice/tree';
import { createNodes } from '../../src/index';

// A header patch rebuilds exactly the objects that include the header. Ground truth is kbuild's: it records, per
// object, every header the compiler really read (.<obj>.cmd, scripts/basic/fixdep.c). We build the header's whole
// directory plus every object found elsewhere, then compare both ways.
const kernel = inject('kernel');
const HEADER = 'fs/proc/internal.h';
const PATCH = `--- a/fs/proc/internal.h
+++ b/fs/proc/internal.h
@@ -100,7 +100,7 @@
 
 static inline bool pde_has_proc_lseek(const struct proc_dir_entry *pde)
 {
-	return pde->proc_ops->proc_lseek;
+	return pde->proc_ops->proc_lseek != NULL;
 }
 
`;

describe('header patches', () => {
  let found: string[];
  let truth: string[];
  const reads = (object: string) =>
    parseCmdFile(readFileSync(join(kernel.sourceTree, cmdFileOf(object)), 'utf8')).deps.includes(HEADER);
  beforeAll(async () => {
    found = await objectsIncluding(kernel.sourceTree, [HEADER]);
    await withTreeLock(kernel.sourceTree, () => compileObjects(kernel, ['fs/proc/', ...found.filter((o) => !o.startsWith('fs/proc/'))]));
    const inDir = readdirSync(join(kernel.sourceTree, 'fs/proc'))
      .filter((name) => /^\..*\.o\.cmd$/.test(name))
      .map((name) => `fs/proc/${name.slice(1, -'.cmd'.length)}`);
    truth = [...new Set([...inDir, ...found])].filter(reads).sort();
  });

  it('finds exactly the objects kbuild says read the header', () => {
    expect(truth.length).toBeGreaterThan(15);
    expect(truth).toContain('fs/proc_namespace.o'); // outside the header's directory: #include "proc/internal.h"
    expect(found).toEqual(truth);
  });

  it('gives the pipeline exactly those objects', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'hs-header-'));
    writeFileSync(join(ws, 'header.patch'), PATCH);
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ id: 'header_fix', patches: ['header.patch'] }));
    const [, fn] = createNodes;
    const [[, result]] = await fn(['hotpatch.json'], undefined, { workspaceRoot: ws, nxJsonConfiguration: {} });
    const objects = Object.keys(result.projects ?? {})
      .filter((root) => root !== '.')
      .map((root) => root.replace('.hotsplice-kernel/', ''))
      .sort();
    expect(objects).toEqual(truth);
  });
});
