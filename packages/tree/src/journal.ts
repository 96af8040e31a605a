import { copyFile, mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { UserError } from '@hotsplice/kernel';
import { type PatchedFile, parsePatch } from './patch';

/**
 * Ksplice's presrc revert, rebuilt: every file a patch touches is backed up into a journal before the tree
 * changes, and any run first restores a tree an interrupted run left patched.
 *
 * Order of writes (each step survives a kill at any point):
 *   1. patches applied to copies in a scratch dir (a patch that does not apply fails here; tree untouched);
 *   2. originals copied to <journal>/files/, then <journal>/journal.json renamed into place (the commit point);
 *   3. patched copies installed into the tree, each by rename of a temp file;
 *   restore: originals copied back, journal.json removed last.
 */
interface JournalFile {
  path: string;
  existed: boolean;
}

const JOURNAL = 'journal.json';

export interface PatchInput {
  name: string;
  text: string;
}

/** Put back every file of an interrupted run; returns the paths restored (empty when the tree was clean). */
export async function restoreTree(tree: string, journalDir: string): Promise<string[]> {
  let entries: JournalFile[];
  try {
    entries = JSON.parse(await readFile(join(journalDir, JOURNAL), 'utf8')).files;
  } catch {
    // No committed journal: the tree was never touched; drop half-written backups.
    await rm(journalDir, { recursive: true, force: true });
    return [];
  }
  for (const entry of entries) {
    const target = join(tree, entry.path);
    if (entry.existed) await replaceFile(join(journalDir, 'files', entry.path), target);
    else await unlink(target).catch(() => undefined);
  }
  await unlink(join(journalDir, JOURNAL));
  await rm(journalDir, { recursive: true, force: true });
  return entries.map((e) => e.path);
}

/** Apply the patches to the tree under the journal. Call restoreTree to undo. */
export async function applyPatches(tree: string, journalDir: string, patches: PatchInput[]): Promise<PatchedFile[]> {
  await restoreTree(tree, journalDir);
  const touched = new Map<string, PatchedFile>();
  for (const patch of patches) for (const f of parsePatch(patch.text, patch.name)) touched.set(f.path, f);

  const scratch = await mkdtemp(join(tmpdir(), 'hotsplice-patch-'));
  try {
    const existed = new Map<string, boolean>();
    for (const path of touched.keys()) {
      await mkdir(dirname(join(scratch, path)), { recursive: true });
      existed.set(path, await copyFile(join(tree, path), join(scratch, path)).then(() => true, () => false));
    }
    for (const patch of patches) await patchCopy(scratch, patch);

    await mkdir(join(journalDir, 'files'), { recursive: true });
    for (const [path, was] of existed) {
      if (!was) continue;
      await mkdir(dirname(join(journalDir, 'files', path)), { recursive: true });
      await copyFile(join(tree, path), join(journalDir, 'files', path));
    }
    const journal = { tree, files: [...existed].map(([path, was]) => ({ path, existed: was })) };
    await writeFile(join(journalDir, `${JOURNAL}.tmp`), JSON.stringify(journal));
    await rename(join(journalDir, `${JOURNAL}.tmp`), join(journalDir, JOURNAL));

    for (const [path, file] of touched) {
      if (file.deleted) await unlink(join(tree, path)).catch(() => undefined);
      else await replaceFile(join(scratch, path), join(tree, path));
    }
    return [...touched.values()];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function patchCopy(dir: string, patch: PatchInput): Promise<void> {
  const result = await execa('patch', ['-p1', '-f', '--no-backup-if-mismatch', '--reject-file=-', '-d', dir], {
    input: patch.text,
    reject: false,
    all: true,
  });
  if (result.exitCode === 0) return;
  // patch prints "patching file X" before each file's "Hunk #N FAILED at L."; name both.
  let file = '';
  const failures: string[] = [];
  for (const line of String(result.all ?? '').split('\n')) {
    const patching = /^patching file (.+)$/.exec(line);
    if (patching) file = patching[1];
    else if (/FAILED at|can't find file|malformed|Only garbage/i.test(line)) failures.push(`${file}: ${line.trim()}`);
  }
  throw new UserError(
    `${patch.name} does not apply to the kernel tree: ${failures.join('; ') || 'patch failed'} (tree untouched)`,
  );
}

/** Write a file by renaming a complete copy over it, so a kill never leaves it half written. */
async function replaceFile(from: string, to: string): Promise<void> {
  const temp = `${to}.hotsplice-tmp`;
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, temp);
  await rename(temp, to);
}
