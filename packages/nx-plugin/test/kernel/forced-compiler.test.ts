// A compiler the user forces (create --compiler PATH --force-compiler) on the machine's kernel: the kernel's own
// gcc-12 binary reached through a link of another name, so its --version line is not CONFIG_CC_VERSION_TEXT (as
// /usr/bin/gcc's is not), behind a script that logs each call. Refused without --force-compiler in one line naming
// both versions; forced, every compile of the update (pre and post object, the module's loader) runs it, verify-pre
// still matches the shipped vmlinux, and manifest.json, report.json and the summary record the mismatch. The shared
// kernel tree keeps its config and no object the forced compiler built.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO, create, scratchWorkspace } from './workspace';

const kernel = inject('kernel');
const ID = 'forced_cc';
const text = (file: string) => readFileSync(file, 'utf8');

describe(`a forced compiler mismatch on ${kernel.abi}`, () => {
  let ws: string;
  let cc: string;
  let log: string;
  let refused: ReturnType<typeof create>;
  let forced: ReturnType<typeof create>;
  let ccVersion: string;
  const autoconf = join(kernel.sourceTree, 'include', 'generated', 'autoconf.h');
  let autoconfBefore: { mtimeMs: number; text: string };

  beforeAll(() => {
    ws = scratchWorkspace();
    const dir = mkdtempSync(join(tmpdir(), 'hs-forced-cc-'));
    const real = execFileSync('sh', ['-c', `realpath "$(command -v ${kernel.compiler})"`], { encoding: 'utf8' }).trim();
    symlinkSync(real, join(dir, 'hs-gcc'));
    log = join(dir, 'calls.log');
    cc = join(dir, 'logging-cc');
    // Each object it writes is logged with its mtime: the shared tree is checked for those very files (other
    // clones compile in the same tree meanwhile, with the kernel's compiler, which is fine).
    writeFileSync(
      cc,
      [
        '#!/bin/sh',
        `echo "$*" >> '${log}'`,
        `'${join(dir, 'hs-gcc')}' "$@"; rc=$?`,
        'prev=; out=; for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done',
        'case $out in "") ;; /*) ;; *) out=$(pwd)/$out ;; esac',
        `[ -f "$out" ] && echo "wrote $(realpath "$out") $(stat -c %y "$out")" >> '${log}'`,
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(cc, 0o755);
    ccVersion = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n', 1)[0]!;
    writeFileSync(log, '');
    autoconfBefore = { mtimeMs: statSync(autoconf).mtimeMs, text: text(autoconf) };
    const patch = join(REPO, 'examples', 'proc-version-marker.patch');
    refused = create(ws, '--patch', patch, '--id', ID, '--abi', kernel.abi, '--compiler', cc);
    forced = create(ws, '--patch', patch, '--id', ID, '--abi', kernel.abi, '--compiler', cc, '--force-compiler');
  }, 3_600_000);

  it('is refused by default, in one line naming both compiler versions', () => {
    expect(ccVersion).toMatch(/^hs-gcc \(Debian /);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`hotsplice: --compiler ${cc} is "${ccVersion}", but ${kernel.abi} was built by "${kernel.compilerVersion}"; --force-compiler builds with it anyway (recorded in the package)`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });

  it('builds with it when forced: every compile ran it, and verify-pre matched the shipped vmlinux', () => {
    expect(forced.code, `${forced.stdout}\n${forced.stderr}`).toBe(0);
    const calls = text(log).split('\n').filter((l) => !l.startsWith('wrote ') && / -c /.test(l));
    // The pre and the post fs/proc/version.o, and the module's loader and tables (kbuild's own .mod.c too).
    expect(calls.filter((l) => l.includes('fs/proc/version.c')).length).toBe(2);
    expect(calls.some((l) => l.includes('hotsplice-loader.c'))).toBe(true);
    expect(`${forced.stdout}${forced.stderr}`).toMatch(/verify-pre: fs\/proc\/version\.o \[vmlinux\]: 1\/1 function\(s\) of the old code match vmlinux/);
  });

  it('records the mismatch in manifest.json, report.json and the summary', () => {
    const record = { path: cc, version: ccVersion, kernel: kernel.compilerVersion };
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(ws, 'dist', 'hotpatch', ID, `hotsplice-${ID}.tar.gz`), 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest.compiler).toEqual(record);
    expect(JSON.parse(text(join(ws, 'dist', 'hotpatch', ID, 'report.json'))).compiler).toEqual(record);
    expect(text(join(ws, 'dist', 'hotpatch', ID, 'summary.txt')).split('\n')[3]).toBe(`compiler FORCED: ${cc} ("${ccVersion}"); the kernel was built by "${kernel.compilerVersion}"`);
  });

  it('leaves the shared tree as prepared: its config untouched, no object of the forced compiler', () => {
    expect(statSync(autoconf).mtimeMs).toBe(autoconfBefore.mtimeMs);
    expect(text(autoconf)).toBe(autoconfBefore.text);
    // It compiled the pre object in the tree (kbuild's place for it); that file is gone or is another compile's.
    const tree = realpathSync(kernel.sourceTree);
    const written = text(log)
      .split('\n')
      .flatMap((l) => (l.startsWith(`wrote ${tree}/`) ? [{ path: l.split(' ')[1]!, mtime: l.split(' ').slice(2).join(' ') }] : []));
    expect(written.map((w) => w.path.slice(tree.length + 1))).toContain('fs/proc/version.o');
    const mtimeNow = (path: string) => (existsSync(path) ? execFileSync('stat', ['-c', '%y', path], { encoding: 'utf8' }).trim() : 'absent');
    for (const w of written) expect(mtimeNow(w.path), w.path).not.toBe(w.mtime);
  });
});
