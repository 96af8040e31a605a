import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compileObjects, journalFor, restoreTree, withTreeLock } from '@hotsplice/tree';
import { withCompilerWrapper } from '../../../../packages/nx-plugin/src/executors/common';
import { freePort } from '../../src';

// Distributed compile: the snap/diff executors' compiler wrapper (a gcc-12 shim first on PATH) sends one real
// kernel object through a distccd this test starts on 127.0.0.1. The object must equal a local build byte for byte
// and kbuild's recorded command line must not change (it is what if_changed sees). distcc preprocesses locally
// (gcc -E collapses whitespace) and the server compiles the .i: only DWARF column numbers differed, which the
// build's -gno-column-info leaves out (tools/kernel build-flags.ts).
const kernel = inject('kernel');
const OBJECT = 'fs/proc/version.o';

describe('distcc through the executors’ compiler wrapper', () => {
  let daemon: ChildProcess;
  let log = '';
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    const asRoot = process.geteuid?.() === 0;
    daemon = spawn(
      'distccd',
      ['--daemon', '--no-detach', '--listen', '127.0.0.1', '--allow', '127.0.0.1', '-p', String(port), '-j', '2', '--log-stderr', '--log-level', 'info', ...(asRoot ? ['--user', 'nobody'] : [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemon.stderr!.on('data', (d: Buffer) => (log += d));
    const end = Date.now() + 10_000;
    while (!log.includes('listening on') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(log).toContain('listening on');
  });
  afterAll(() => {
    daemon?.kill('SIGTERM');
  });

  it('builds an object through distccd byte-identical to a local build, with the same kbuild command line', async () => {
    const tree = kernel.sourceTree;
    const object = join(tree, OBJECT);
    const cmdFile = join(tree, 'fs/proc/.version.o.cmd');
    const saved = { ...process.env };
    let remote: Buffer;
    let local: Buffer;
    let cmdRemote: string;
    let cmdLocal: string;
    let seconds: { remote: number; local: number };
    await withTreeLock(tree, async () => {
      await restoreTree(tree, journalFor(tree));
      // Remove only the build product so make compiles it again; the tree's sources are not touched.
      rmSync(object, { force: true });
      Object.assign(process.env, { DISTCC_HOSTS: `127.0.0.1:${port}/2`, DISTCC_FALLBACK: '0', DISTCC_SKIP_LOCAL_RETRY: '1' });
      let t = Date.now();
      try {
        await withCompilerWrapper('distcc', kernel, () => compileObjects(kernel, [OBJECT]));
      } finally {
        process.env = saved;
      }
      seconds = { remote: (Date.now() - t) / 1000, local: 0 };
      remote = readFileSync(object);
      cmdRemote = readFileSync(cmdFile, 'utf8');
      rmSync(object, { force: true });
      t = Date.now();
      await compileObjects(kernel, [OBJECT]);
      seconds.local = (Date.now() - t) / 1000;
      local = readFileSync(object);
      cmdLocal = readFileSync(cmdFile, 'utf8');
    });
    console.log(
      `distcc: ${OBJECT} via distccd ${seconds!.remote.toFixed(1)} s, local ${seconds!.local.toFixed(1)} s; ` +
        `identical: ${remote!.equals(local!)} (${local!.length} bytes)`,
    );
    // distccd compiled it (not a local fallback) …
    expect(log).toMatch(/COMPILE_OK[^\n]*version\.c/);
    // … into the very same bytes, with the command line kbuild records for a local build.
    expect(remote!.length).toBe(local!.length);
    expect(remote!.equals(local!)).toBe(true);
    expect(cmdRemote!).toBe(cmdLocal!);
    expect(cmdLocal!.split('\n')[0]).toMatch(/^(savedcmd|cmd)_fs\/proc\/version\.o := gcc-12 /);
    expect(existsSync(object)).toBe(true);
  });
});
