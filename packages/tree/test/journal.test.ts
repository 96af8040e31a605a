import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyPatches, restoreTree } from '../src/journal';

const FILES = 40;

async function makeTree(): Promise<{ tree: string; journal: string; pristine: Map<string, string> }> {
  const root = await mkdtemp(join(tmpdir(), 'hs-journal-'));
  const tree = join(root, 'tree');
  const pristine = new Map<string, string>();
  for (let i = 0; i < FILES; i++) {
    const path = `dir${i % 4}/file${i}.c`;
    const text = Array.from({ length: 50 }, (_, l) => `int f${i}_${l}(void) { return ${l}; }`).join('\n') + '\n';
    await mkdir(join(tree, `dir${i % 4}`), { recursive: true });
    await writeFile(join(tree, path), text);
    pristine.set(path, text);
  }
  return { tree, journal: join(root, 'journal'), pristine };
}

function patchFor(i: number): string {
  const path = `dir${i % 4}/file${i}.c`;
  return `--- a/${path}\n+++ b/${path}\n@@ -2,3 +2,3 @@\n int f${i}_0(void) { return 0; }\n-int f${i}_1(void) { return 1; }\n+int f${i}_1(void) { return 100; }\n int f${i}_2(void) { return 2; }\n`.replace(
    '@@ -2,3 +2,3 @@\n int f',
    '@@ -1,3 +1,3 @@\n int f',
  );
}

async function snapshot(tree: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of await readdir(tree)) {
    for (const name of await readdir(join(tree, dir))) out.set(`${dir}/${name}`, await readFile(join(tree, dir, name), 'utf8'));
  }
  return out;
}

const ALL = Array.from({ length: FILES }, (_, i) => patchFor(i)).join('');
const NEW_FILE = '--- /dev/null\n+++ b/dir0/added.c\n@@ -0,0 +1 @@\n+int added;\n';

describe('journaled patching (presrc revert)', () => {
  it('applies, then restores the tree byte for byte, removing created files', async () => {
    const { tree, journal, pristine } = await makeTree();
    const files = await applyPatches(tree, journal, [{ name: 'all.patch', text: ALL + NEW_FILE }]);
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
      child.stdin.end(ALL);
      let applied = false;
      child.stdout.on('data', () => (applied = true));
      await new Promise((resolve) => child.stderr.once('data', resolve));
      // Anywhere from before the scratch copies to after the patched files are installed (~400 ms in all).
      await new Promise((resolve) => setTimeout(resolve, random() * 700));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      const restored = await restoreTree(tree, journal);
      outcomes[restored.length ? 'patched' : 'clean']++;
      if (applied) expect(restored).toHaveLength(FILES);
      expect(await snapshot(tree)).toEqual(pristine);
    }
    console.log(`kill rounds: ${outcomes.patched} with the tree patched, ${outcomes.clean} before the journal committed`);
  });
});
