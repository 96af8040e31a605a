import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';
import { REPO, scratchWorkspace } from './workspace';

// Ksplice's presrc revert under fire: `hotsplice create` killed (SIGINT or SIGKILL, its whole process group) at
// 20 random points of a full run; the next run's first step restores, and the tree must equal the pristine one,
// structure included: the patch also creates a header in a new directory and changes a header the tree holds as
// a symlink (include/dt-bindings/clock/qcom,dispcc-sm8350.h -> qcom,dispcc-sm8250.h; no x86 object includes it).
const kernel = inject('kernel');
const pristineTree = inject('pristineTree');
const LINK = 'include/dt-bindings/clock/qcom,dispcc-sm8350.h';
const NEW_DIR = 'fs/proc/hotsplice-new';
const PATHS = ['fs/proc/version.c', LINK, 'include/dt-bindings/clock/qcom,dispcc-sm8250.h', NEW_DIR, `${NEW_DIR}/marker.h`];

/** Each path's kind, permission bits and content hash (a symlink: its target), or "absent". */
const digest = () =>
  PATHS.map((p) => {
    const full = join(kernel.sourceTree, p);
    const st = lstatSync(full, { throwIfNoEntry: false });
    if (!st) return `${p}: absent`;
    if (st.isSymbolicLink()) return `${p}: link -> ${readlinkSync(full)}`;
    const mode = (st.mode & 0o7777).toString(8);
    return `${p}: ${st.isDirectory() ? 'dir' : 'file'} ${mode} ${st.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : ''}`;
  });

/** The example patch, plus a new header in a new directory and a change made through the symlinked header. */
function structurePatch(): string {
  const [first, second] = readFileSync(join(pristineTree, LINK), 'utf8').split('\n');
  return (
    readFileSync(join(REPO, 'examples/proc-version-marker.patch'), 'utf8') +
    `--- /dev/null\n+++ b/${NEW_DIR}/marker.h\n@@ -0,0 +1 @@\n+#define HOTSPLICE_MARKER 1\n` +
    // Context on both sides: with exact context, GNU patch takes a hunk with none after it as the file's end.
    `--- a/${LINK}\n+++ b/${LINK}\n@@ -1,2 +1,3 @@\n ${first}\n+/* hotsplice: changed through its link */\n ${second}\n`
  );
}

describe('source tree safety', () => {
  let ws: string;
  beforeAll(() => {
    ws = scratchWorkspace();
  });

  it('restores a byte-identical tree after create is killed at 20 random points', async () => {
    // Other tests patch the same tree concurrently (under the tree lock): look at it only while holding the lock.
    const pristine = await withTreeLock(kernel.sourceTree, async () => {
      await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree));
      return digest();
    });
    expect(pristine).toContain(`${LINK}: link -> qcom,dispcc-sm8250.h`);
    expect(pristine).toContain(`${NEW_DIR}: absent`);
    const patch = join(ws, 'structure.patch');
    writeFileSync(patch, structurePatch());
    let seed = 20261125;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const seen = { patched: 0, clean: 0 };
    for (let round = 0; round < 20; round++) {
      const signal = round % 2 ? 'SIGKILL' : 'SIGINT';
      const child = spawn(process.execPath, [join(ws, 'packages/cli/bin/hotsplice.js'), 'create', '--patch', patch, '--id', 'interrupted'], {
        cwd: ws,
        detached: true, // its own process group: the kill reaches Nx and its workers too
        stdio: 'ignore',
        env: { ...process.env, NX_DAEMON: 'false', NX_SKIP_NX_CACHE: 'true' },
      });
      const exited = new Promise((resolve) => child.on('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, 500 + random() * 9000));
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // it had finished already
      }
      await exited;
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the group's last processes go
      // What every run does first (the manifest step): take the tree lock and restore from the journal.
      const { restored, after, journal } = await withTreeLock(kernel.sourceTree, async () => ({
        restored: await restoreTree(kernel.sourceTree, journalFor(kernel.sourceTree)),
        after: digest(),
        journal: existsSync(journalFor(kernel.sourceTree)),
      }));
      seen[restored.length ? 'patched' : 'clean']++;
      expect(after, `round ${round} (${signal})`).toEqual(pristine);
      expect(journal).toBe(false);
    }
    console.log(`interrupted runs: ${seen.patched} left the tree patched and were restored, ${seen.clean} left it clean`);
    // Run to its end, the same patch builds (through the link, with the new directory) and leaves the tree as it was.
    const full = spawnSync(process.execPath, [join(ws, 'packages/cli/bin/hotsplice.js'), 'create', '--patch', patch, '--id', 'interrupted'], {
      cwd: ws,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    expect(full.status, full.stderr).toBe(0);
    expect(await withTreeLock(kernel.sourceTree, async () => digest())).toEqual(pristine);
  });
});
