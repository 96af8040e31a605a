import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';
import { REPO, scratchWorkspace } from './workspace';

// Ksplice's presrc revert under fire: `hotsplice create` killed (SIGINT or SIGKILL, its whole process group) at
// 20 random points of a full run; the next run's first step restores, and the tree must equal the pristine one.
const kernel = inject('kernel');
const PATCHED = ['fs/proc/version.c'];

const digest = () => PATCHED.map((p) => createHash('sha256').update(readFileSync(join(kernel.sourceTree, p))).digest('hex'));

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
    let seed = 20261125;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const seen = { patched: 0, clean: 0 };
    for (let round = 0; round < 20; round++) {
      const signal = round % 2 ? 'SIGKILL' : 'SIGINT';
      const child = spawn(process.execPath, [join(ws, 'packages/cli/bin/hotsplice.js'), 'create', '--patch', join(REPO, 'examples/proc-version-marker.patch'), '--id', 'interrupted'], {
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
  });
});
