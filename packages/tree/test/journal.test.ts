import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatches, restoreTree } from '../src/journal';

const FILES = 40;

/** Contents of f{i}_{l} lines, as every file of the tree holds them. */
const body = (i: number) => Array.from({ length: 50 }, (_, l) => `int f${i}_${l}(void) { return ${l}; }`).join('\n') + '\n';

/**
 * 40 files in four directories, plus structure a patch can disturb: `dir1/file1.c` is executable (0755) and
 * `links/file2.c` is a symlink to `../dir2/file2.c` (as include/dt-bindings/… links into include/uapi/).
 */
async function makeTree(): Promise<{ tree: string; journal: string; pristine: Map<string, string> }> {
  const root = await mkdtemp(join(tmpdir(), 'hs-journal-'));
  const tree = join(root, 'tree');
  for (let i = 0; i < FILES; i++) {
    await mkdir(join(tree, `dir${i % 4}`), { recursive: true });
    await writeFile(join(tree, `dir${i % 4}/file${i}.c`), body(i));
  }
  await chmod(join(tree, 'dir1/file1.c'), 0o755);
  await mkdir(join(tree, 'links'));
  await symlink('../dir2/file2.c', join(tree, 'links/file2.c'));
  return { tree, journal: join(root, 'journal'), pristine: await snapshot(tree) };
}

function patchFor(i: number): string {
  const path = `dir${i % 4}/file${i}.c`;
  return `--- a/${path}\n+++ b/${path}\n@@ -2,3 +2,3 @@\n int f${i}_0(void) { return 0; }\n-int f${i}_1(void) { return 1; }\n+int f${i}_1(void) { return 100; }\n int f${i}_2(void) { return 2; }\n`.replace(
    '@@ -2,3 +2,3 @@\n int f',
    '@@ -1,3 +1,3 @@\n int f',
  );
}

/** Every path of the tree with its kind, permission bits and contents (a symlink: its target). */
async function snapshot(tree: string, dir = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(join(tree, dir))).sort()) {
    const path = dir ? `${dir}/${name}` : name;
    const st = await lstat(join(tree, path));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.set(path, `link -> ${await readlink(join(tree, path))}`);
    else if (st.isDirectory()) {
      out.set(path, `dir ${mode}`);
      for (const [p, v] of await snapshot(tree, path)) out.set(p, v);
    } else out.set(path, `file ${mode} ${await readFile(join(tree, path), 'utf8')}`);
  }
  return out;
}

const ALL = Array.from({ length: FILES }, (_, i) => patchFor(i)).join('');
const NEW_FILE = '--- /dev/null\n+++ b/dir0/added.c\n@@ -0,0 +1 @@\n+int added;\n';
const NEW_DIR = '--- /dev/null\n+++ b/dir0/new/deeper/added.h\n@@ -0,0 +1 @@\n+#define ADDED 1\n';
/** The same change as patchFor(2), named through the symlink links/file2.c. */
const THROUGH_LINK = patchFor(2).replaceAll('dir2/file2.c', 'links/file2.c');
/** Everything that disturbs structure: files, a new directory two levels deep, the executable file, the link. */
const STRUCTURE = Array.from({ length: FILES }, (_, i) => (i === 2 ? THROUGH_LINK : patchFor(i))).join('') + NEW_DIR;

describe('journaled patching (presrc revert)', () => {
  it('applies, then restores the tree byte for byte, removing created files', async () => {
    const { tree, journal, pristine } = await makeTree();
    const { files } = await applyPatches(tree, journal, [{ name: 'all.patch', text: ALL + NEW_FILE }]);
    expect(files).toHaveLength(FILES + 1);
    expect(await readFile(join(tree, 'dir3/file7.c'), 'utf8')).toContain('int f7_1(void) { return 100; }');
    expect(await readFile(join(tree, 'dir0/added.c'), 'utf8')).toBe('int added;\n');
    expect((await restoreTree(tree, journal)).sort()).toHaveLength(FILES + 1);
    expect(await snapshot(tree)).toEqual(pristine);
    expect(await restoreTree(tree, journal)).toEqual([]); // nothing left to do
  });

  it('names the failing hunk and leaves the tree untouched', async () => {
    const { tree, journal, pristine } = await makeTree();
    const bad = patchFor(3).replace('return 1; }\n+', 'return 7; }\n+');
    await expect(applyPatches(tree, journal, [{ name: 'good.patch', text: patchFor(1) }, { name: 'bad.patch', text: bad }])).rejects.toThrow(
      'bad.patch does not apply to the kernel tree: dir3/file3.c: Hunk #1 FAILED at 1. (tree untouched)',
    );
    expect(await snapshot(tree)).toEqual(pristine);
  });

  it('patches a symlinked file through its link, keeps modes, and removes the directories it created', async () => {
    const { tree, journal, pristine } = await makeTree();
    await applyPatches(tree, journal, [{ name: 'structure.patch', text: STRUCTURE }]);
    const patched = await snapshot(tree);
    expect(patched.get('links/file2.c')).toBe('link -> ../dir2/file2.c');
    expect(patched.get('dir2/file2.c')).toContain('int f2_1(void) { return 100; }');
    expect(patched.get('dir1/file1.c')).toMatch(/^file 755 int f1_0/);
    expect(patched.get('dir1/file1.c')).toContain('return 100;');
    expect(patched.get('dir0/new/deeper/added.h')).toBe('file 644 #define ADDED 1\n');
    expect(await restoreTree(tree, journal)).toHaveLength(FILES + 1);
    expect(await snapshot(tree)).toEqual(pristine);
  });

  it('refuses a symlink that leads out of the tree, before touching anything', async () => {
    const { tree, journal, pristine } = await makeTree();
    await symlink('/etc/hostname', join(tree, 'links/outside.c'));
    const text = '--- a/links/outside.c\n+++ b/links/outside.c\n@@ -1 +1 @@\n-a\n+b\n';
    await expect(applyPatches(tree, journal, [{ name: 'out.patch', text }])).rejects.toThrow('links/outside.c: a symlink out of the kernel tree');
    pristine.set('links/outside.c', 'link -> /etc/hostname');
    expect(await snapshot(tree)).toEqual(pristine);
  });

  it('needs exact context unless fuzz is allowed, and reports every moved or fuzzed hunk', async () => {
    const { tree, journal, pristine } = await makeTree();
    // Context line f5_2 no longer matches the tree (as when a stable update touched the line after the fix).
    const stale = patchFor(5).replace(' int f5_2(void) { return 2; }', ' int f5_2(void) { return 22; }');
    await expect(applyPatches(tree, journal, [{ name: 'stale.patch', text: stale }])).rejects.toThrow(
      'stale.patch does not apply to the kernel tree: dir1/file5.c: Hunk #1 FAILED at 1. (tree untouched); exact context is required (--fuzz N lets N context lines differ)',
    );
    expect(await snapshot(tree)).toEqual(pristine);
    // The same hunk 10 lines further down, numbered as if it were at the top: an offset, no fuzz.
    const moved = `--- a/dir0/file4.c\n+++ b/dir0/file4.c\n@@ -1,3 +1,3 @@\n int f4_10(void) { return 10; }\n-int f4_11(void) { return 11; }\n+int f4_11(void) { return 0; }\n int f4_12(void) { return 12; }\n`;
    const applied = await applyPatches(tree, journal, [
      { name: 'stale.patch', text: stale, fuzz: 1 },
      { name: 'moved.patch', text: moved },
    ]);
    expect(applied.hunks).toEqual([
      { patch: 'stale.patch', file: 'dir1/file5.c', hunk: 1, line: 1, offset: 0, fuzz: 1 },
      { patch: 'moved.patch', file: 'dir0/file4.c', hunk: 1, line: 11, offset: 10, fuzz: 0 },
    ]);
    expect(await readFile(join(tree, 'dir1/file5.c'), 'utf8')).toContain('int f5_1(void) { return 100; }');
    await restoreTree(tree, journal);
    expect(await snapshot(tree)).toEqual(pristine);
  });

  it('restores the pristine tree after a SIGKILL at 20 random points of patching', async () => {
    const { tree, journal, pristine } = await makeTree();
    const script = `require('@swc-node/register');
      const { applyPatches } = require(${JSON.stringify(join(__dirname, '..', 'src', 'journal.ts'))});
      process.stderr.write('start');
      applyPatches(process.argv[1], process.argv[2], [{ name: 'all.patch', text: require('fs').readFileSync(0, 'utf8') }])
        .then(() => { process.stdout.write('applied'); setTimeout(() => {}, 1e6); });`;
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const outcomes = { patched: 0, clean: 0 };
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, ['-e', script, tree, journal], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.end(STRUCTURE);
      let applied = false;
      child.stdout.on('data', () => (applied = true));
      await new Promise((resolve) => child.stderr.once('data', resolve));
      // Anywhere from before the scratch copies to after the patched files are installed (~400 ms in all).
      await new Promise((resolve) => setTimeout(resolve, random() * 700));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      const restored = await restoreTree(tree, journal);
      outcomes[restored.length ? 'patched' : 'clean']++;
      if (applied) expect(restored).toHaveLength(FILES + 1);
      expect(await snapshot(tree)).toEqual(pristine);
    }
    console.log(`kill rounds: ${outcomes.patched} with the tree patched, ${outcomes.clean} before the journal committed`);
  }, 180_000); // 20 child processes, each starting Node with the TypeScript loader: slow on a loaded 2-core machine
});
