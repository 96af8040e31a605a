import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO, atRest, create, scratchWorkspace } from './workspace';

// ksplice-create's inputs end to end: a patch, a git range of a real repository holding kernel files, a diffext
// folder; each with absolute and relative paths, through the CLI to a package. And inputs that must be refused.
const kernel = inject('kernel');
// Source files are read from the pristine copy: another test may hold the shared tree patched.
const pristineTree = inject('pristineTree');
const EXAMPLE = readFileSync(join(REPO, 'examples', 'proc-version-marker.patch'), 'utf8');
const ADDED = '\tseq_puts(m, "hotsplice: livepatched by proc_version_marker\\n");\n';

/** The example change, made to a copy of the tree's fs/proc/version.c. */
function patchedVersion(): string {
  const pristine = readFileSync(join(pristineTree, 'fs/proc/version.c'), 'utf8');
  const patched = pristine.replace('\t\tutsname()->version);\n', `\t\tutsname()->version);\n${ADDED}`);
  expect(patched).not.toBe(pristine);
  return patched;
}

const manifestOf = (ws: string, id: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-pkg-'));
  execFileSync('tar', ['-xzf', join(ws, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`), '-C', dir, 'manifest.json']);
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
};
const functionsOf = (ws: string, id: string) =>
  manifestOf(ws, id).objects.flatMap((o: { functions: Array<{ name: string }> }) => o.functions.map((f) => f.name));

describe('create from a git range and from a diffext folder, with absolute and relative paths', () => {
  let ws: string;
  let repo: string;
  let diffext: string;
  beforeAll(() => {
    ws = scratchWorkspace();
    repo = mkdtempSync(join(tmpdir(), 'hs-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
    git('init', '-q');
    mkdirSync(join(repo, 'fs', 'proc'), { recursive: true });
    copyFileSync(join(pristineTree, 'fs/proc/version.c'), join(repo, 'fs/proc/version.c'));
    git('add', '.');
    git('commit', '-qm', 'fs/proc/version.c as Debian ships it');
    writeFileSync(join(repo, 'fs/proc/version.c'), patchedVersion());
    git('commit', '-qam', 'proc: mark /proc/version');
    diffext = mkdtempSync(join(tmpdir(), 'hs-diffext-'));
    mkdirSync(join(diffext, 'fs', 'proc'), { recursive: true });
    writeFileSync(join(diffext, 'fs/proc/version.c.new'), patchedVersion());
  });

  it.each([
    ['absolute', () => repo],
    ['relative', () => relative(ws, repo)],
  ])('--git HEAD~1..HEAD --repo (%s) builds the package', (_how, path) => {
    const id = `git_${_how}`;
    const r = create(ws, '--git', 'HEAD~1..HEAD', '--repo', path(), '--id', id);
    expect(r.code, r.stderr).toBe(0);
    expect(functionsOf(ws, id)).toEqual(['version_proc_show']);
    expect(manifestOf(ws, id).patches.map((p: { name: string }) => p.name)).toEqual(['git HEAD~1..HEAD']);
  });

  it.each([
    ['absolute', () => diffext],
    ['relative', () => relative(ws, diffext)],
  ])('--diffext DIR --ext .new (%s) builds the package', (_how, path) => {
    const id = `diffext_${_how}`;
    const r = create(ws, '--diffext', path(), '--ext', '.new', '--id', id);
    expect(r.code, r.stderr).toBe(0);
    expect(functionsOf(ws, id)).toEqual(['version_proc_show']);
    expect(manifestOf(ws, id).patches.map((p: { name: string }) => p.name)).toEqual([join(diffext, 'fs/proc/version.c.new')]);
  });

  it('refuses a --repo that is not there before writing anything, and later runs print nothing of it', () => {
    const gone = join(tmpdir(), 'hs-no-such-repo');
    const r = create(ws, '--git', 'HEAD~1..HEAD', '--repo', gone, '--id', 'git_gone');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hotsplice: --repo ${gone}: not a folder\n`);
    expect(existsSync(join(ws, '.hotsplice', 'create', 'git_gone'))).toBe(false);
    // A repository removed after its create: its update fails alone, in one line, and git says nothing elsewhere.
    const doomed = mkdtempSync(join(tmpdir(), 'hs-git-doomed-'));
    execFileSync('git', ['init', '-q', doomed]);
    expect(create(ws, '--git', 'HEAD~1..HEAD', '--repo', doomed, '--id', 'git_doomed').code).toBe(1);
    rmSync(doomed, { recursive: true });
    const other = create(ws, '--patch', join(REPO, 'examples', 'proc-version-marker.patch'), '--id', 'after_doomed');
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout + other.stderr).not.toContain('fatal:');
  });
});

describe('hunks: exact context unless --fuzz, offsets and fuzz named in the summary', () => {
  let ws: string;
  beforeAll(() => {
    ws = scratchWorkspace();
  });

  /** The example patch with one context line that is no longer in the tree (a line a later update changed). */
  const stale = EXAMPLE.replace(' \t\tutsname()->sysname,\n', ' \t\tutsname()->nodename,\n');
  /** The example patch numbered 5 lines too high, as a patch made against an older tree. */
  const moved = EXAMPLE.replace('@@ -13,6 +13,7 @@', '@@ -8,6 +8,7 @@');

  it('refuses a hunk whose context does not match, saying that exact context is required', () => {
    expect(stale).not.toBe(EXAMPLE);
    writeFileSync(join(ws, 'stale.patch'), stale);
    const r = create(ws, '--patch', join(ws, 'stale.patch'), '--id', 'stale_context');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `\nhotsplice: ${join(ws, 'stale.patch')} does not apply to the kernel tree: fs/proc/version.c: Hunk #1 FAILED at 13. (tree untouched); exact context is required (--fuzz N lets N context lines differ)\n`,
    );
  });

  it('applies it with --fuzz 1 and names the fuzzed hunk in the summary and the report', () => {
    const r = create(ws, '--patch', join(ws, 'stale.patch'), '--id', 'stale_context', '--fuzz', '1');
    expect(r.code, r.stderr).toBe(0);
    const summary = readFileSync(join(ws, 'dist', 'hotpatch', 'stale_context', 'summary.txt'), 'utf8');
    expect(summary).toContain(`hunks applied with FUZZ (context that does not match the patch):\n  ${join(ws, 'stale.patch')}: fs/proc/version.c: hunk #1 applied at line 13 (fuzz 1)\n`);
    const report = JSON.parse(readFileSync(join(ws, 'dist', 'hotpatch', 'stale_context', 'report.json'), 'utf8'));
    expect(report.hunks).toEqual([{ patch: join(ws, 'stale.patch'), file: 'fs/proc/version.c', hunk: 1, line: 13, offset: 0, fuzz: 1 }]);
    expect(report.objects.map((o: { changed: string[] }) => o.changed)).toEqual([['version_proc_show']]);
  });

  it('takes a hunk at an offset without fuzz, and reports the offset', () => {
    writeFileSync(join(ws, 'moved.patch'), moved);
    const r = create(ws, '--patch', join(ws, 'moved.patch'), '--id', 'moved_hunk');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hotsplice: fs/proc/version.c: hunk #1 applied at line 13 (offset 5 lines)');
    const summary = readFileSync(join(ws, 'dist', 'hotpatch', 'moved_hunk', 'summary.txt'), 'utf8');
    expect(summary).toContain(`hunks applied at an offset:\n  ${join(ws, 'moved.patch')}: fs/proc/version.c: hunk #1 applied at line 13 (offset 5 lines)\n`);
    expect(summary).not.toContain('FUZZ');
  });

  it('refuses a --fuzz that is not 0 to 3, as usage', () => {
    const r = create(ws, '--patch', join(ws, 'moved.patch'), '--fuzz', '9');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('hotsplice: --fuzz "9": give 0 to 3 context lines\n');
  });
});

describe('inputs refused by name, with a clean journal', () => {
  let ws: string;
  beforeAll(() => {
    ws = scratchWorkspace();
  });
  const journal = () => join(dirname(kernel.sourceTree), '.hotsplice-journal');

  it('a patch deleting a file', async () => {
    const text = spawnSync('diff', ['-u', '--label', 'a/fs/proc/cmdline.c', '--label', '/dev/null', join(pristineTree, 'fs/proc/cmdline.c'), '/dev/null'], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toContain('+++ /dev/null');
    writeFileSync(join(ws, 'delete.patch'), text);
    const r = create(ws, '--patch', join(ws, 'delete.patch'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hotsplice: ${join(ws, 'delete.patch')}: deletes fs/proc/cmdline.c: removing code cannot be live-patched\n`);
    expect(await atRest(kernel.sourceTree, () => existsSync(journal()))).toBe(false);
  });

  it('a file this kernel’s config does not build (CONFIG_NTFS3_FS is off in Debian)', async () => {
    const path = 'fs/ntfs3/super.c';
    const line = readFileSync(join(pristineTree, path), 'utf8').split('\n')[0]!;
    writeFileSync(join(ws, 'ntfs.patch'), `--- a/${path}\n+++ b/${path}\n@@ -1 +1,2 @@\n ${line}\n+/* hotsplice */\n`);
    const r = create(ws, '--patch', join(ws, 'ntfs.patch'), '--id', 'ntfs_fix');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("hotsplice: fs/ntfs3/super.c is not built in this kernel's config");
    expect(r.stderr).not.toContain('no functional change');
    expect(await atRest(kernel.sourceTree, () => existsSync(journal()))).toBe(false);
  });

  it('an id the main job has, and an id that names a module of the kernel', () => {
    const main = create(ws, '--patch', join(REPO, 'examples', 'proc-version-marker.patch'), '--id', 'proc_version_marker');
    expect(main.code).toBe(1);
    expect(main.stderr).toBe('hotsplice: --id proc_version_marker is taken by the update of hotpatch.json; choose another id\n');
    for (const [id, where] of [['module', 'built-in parameters: /sys/module/module'], ['ext4', 'a loadable module']]) {
      const r = create(ws, '--patch', join(REPO, 'examples', 'proc-version-marker.patch'), '--id', id);
      expect(r.code, where).toBe(1);
      expect(r.stderr).toContain(`hotsplice: update id "${id}": Linux ${kernel.abi} has a module named ${id} already (/sys/module/${id}); choose another id`);
    }
  });
});
