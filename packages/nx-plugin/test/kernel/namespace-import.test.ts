import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create, scratchWorkspace } from './workspace';

// New code that calls a namespaced export (dma_buf_put, vmlinux's DMA_BUF namespace): modpost refused the update
// module ("uses symbol dma_buf_put from namespace DMA_BUF, but does not import it") until the link stage imported
// the namespaces of the new code's imports.
const PATCH = `--- a/fs/proc/version.c
+++ b/fs/proc/version.c
@@ -1,4 +1,5 @@
 // SPDX-License-Identifier: GPL-2.0
+#include <linux/dma-buf.h>
 #include <linux/fs.h>
 #include <linux/init.h>
 #include <linux/kernel.h>
@@ -13,6 +14,8 @@
 \t\tutsname()->sysname,
 \t\tutsname()->release,
 \t\tutsname()->version);
+\tif (!m->private && m->count > (1UL << 40))
+\t\tdma_buf_put(NULL);
 \treturn 0;
 }
 
`;

describe('symbol namespaces', () => {
  it('an update calling a DMA_BUF export builds, and its module imports DMA_BUF', () => {
    const ws = scratchWorkspace();
    writeFileSync(join(ws, 'ns.patch'), PATCH);
    const r = create(ws, '--patch', join(ws, 'ns.patch'), '--id', 'ns_import');
    expect(r.code, r.stderr).toBe(0);
    const ko = join(ws, 'dist', '.hotsplice', 'ns_import', 'link', 'ns_import.ko');
    expect(execFileSync('modinfo', ['-F', 'import_ns', ko], { encoding: 'utf8' }).trim()).toBe('DMA_BUF');
  });
});
