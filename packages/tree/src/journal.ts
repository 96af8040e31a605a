import { chmod, copyFile, lstat, mkdir, mkdtemp, readFile, realpath, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { UserError } from '@hotsplice/kernel';
import { type HunkNote, runPatch } from './hunks';
import { type PatchedFile, parsePatch } from './patch';

/**
 * Ksplice's presrc revert, rebuilt: every file a patch touches is backed up into a journal before the tree
 * changes, and any run first restores a tree an interrupted run left patched: contents, modes, and the structure
 * (directories the patch created are removed; a symlinked file is patched through its link, which stays a link).
 *
 * Order of writes (each step survives a kill at any point):
 *   1. patches applied to copies in a scratch dir (a patch that does not apply fails here; tree untouched);
 *   2. originals copied to <journal>/files/, then <journal>/journal.json renamed into place (the commit point);
 *   3. missing directories created, patched copies installed into the tree, each by rename of a temp file (a
 *      failure here restores at once);
 *   restore: originals copied back with their modes, created files and directories removed, journal.json last.
 */
interface JournalFile {
  /** The file the tree really holds (a symlink's target, resolved inside the tree). */
  path: string;
  existed: boolean;
  /** Permission bits before the patch (existing files). */
  mode?: number;
}

interface Journal {
  tree: string;
  files: JournalFile[];
  /** Directories the patch creates, parents first: removed on restore with all they hold. */
  dirs?: string[];
}

const JOURNAL = 'journal.json';

export interface PatchInput {
  name: string;
  text: string;
  /** GNU patch's fuzz factor for this patch's hunks: 0 (exact context) unless the user asked for more. */
  fuzz?: number;
}

export interface AppliedPatches {
  files: PatchedFile[];
  /** Every hunk that did not apply exactly where the patch said: moved (offset) or matched with fuzz. */
  hunks: HunkNote[];
}

/** Put back every file of an interrupted run; returns the paths restored (empty when the tree was clean). */
export async function restoreTree(tree: string, journalDir: string): Promise<string[]> {
  let journal: Journal;
  try {
    journal = JSON.parse(await readFile(join(journalDir, JOURNAL), 'utf8'));
  } catch {
    // No committed journal: the tree was never touched; drop half-written backups.
    await rm(journalDir, { recursive: true, force: true });
    return [];
  }
  for (const entry of journal.files) {
    const target = join(tree, entry.path);
    if (entry.existed) await replaceFile(join(journalDir, 'files', entry.path), target, entry.mode);
    else await unlink(target).catch(() => undefined);
  }
  for (const dir of [...(journal.dirs ?? [])].reverse()) await rm(join(tree, dir), { recursive: true, force: true });
  await unlink(join(journalDir, JOURNAL));
  await rm(journalDir, { recursive: true, force: true });
  return journal.files.map((e) => e.path);
}

/** Apply the patches to the tree under the journal. Call restoreTree to undo. */
export async function applyPatches(tree: string, journalDir: string, patches: PatchInput[]): Promise<AppliedPatches> {
  await restoreTree(tree, journalDir);
  const touched = new Map<string, PatchedFile>();
  for (const patch of patches) for (const f of parsePatch(patch.text, patch.name)) touched.set(f.path, f);

  const scratch = await mkdtemp(join(tmpdir(), 'hotsplice-patch-'));
  try {
    // The patch names paths; the tree may hold them as symlinks (include/dt-bindings/… → ../../uapi/…).
    const targets = new Map<string, JournalFile>();
    for (const path of touched.keys()) {
      const real = await realPathInTree(tree, path);
      const before = await lstat(join(tree, real)).catch(() => undefined);
      if (before && !before.isFile()) throw new UserError(`${path}: not a regular file in the kernel tree`);
      targets.set(path, { path: real, existed: Boolean(before), ...(before ? { mode: before.mode & 0o7777 } : {}) });
      await mkdir(dirname(join(scratch, path)), { recursive: true });
      if (before) await copyFile(join(tree, real), join(scratch, path));
    }
    const hunks: HunkNote[] = [];
    for (const patch of patches) hunks.push(...(await runPatch(scratch, patch)));

    const files = [...new Map([...targets.values()].map((f) => [f.path, f])).values()];
    const journal: Journal = { tree, files, dirs: await missingDirs(tree, files.filter((f) => !f.existed).map((f) => f.path)) };
    await mkdir(join(journalDir, 'files'), { recursive: true });
    for (const file of files) {
      if (!file.existed) continue;
      await mkdir(dirname(join(journalDir, 'files', file.path)), { recursive: true });
      await copyFile(join(tree, file.path), join(journalDir, 'files', file.path));
    }
    await writeFile(join(journalDir, `${JOURNAL}.tmp`), JSON.stringify(journal));
    await rename(join(journalDir, `${JOURNAL}.tmp`), join(journalDir, JOURNAL));

    try {
      for (const dir of journal.dirs ?? []) await mkdir(join(tree, dir));
      // (parsePatch refuses deletions, so every touched file has a patched copy.)
      for (const [path, target] of targets) await replaceFile(join(scratch, path), join(tree, target.path), target.mode ?? 0o644);
    } catch (err) {
      await restoreTree(tree, journalDir);
      throw err;
    }
    return { files: [...touched.values()], hunks };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Where the tree really keeps `path`: a symlink (at the file or a directory above it) resolved, as long as it
 * stays inside the tree; a file the patch creates keeps its own path. Patching through the link keeps every name
 * of the file in step, and the link itself untouched.
 */
async function realPathInTree(tree: string, path: string): Promise<string> {
  const root = await realpath(tree);
  let existing = path;
  let rest = '';
  for (;;) {
    const resolved = await realpath(join(tree, existing)).catch(() => undefined);
    if (resolved !== undefined) {
      const inside = relative(root, resolved);
      if (inside.startsWith(`..${sep}`) || inside === '..') throw new UserError(`${path}: a symlink out of the kernel tree`);
      return join(inside, rest);
    }
    if (dirname(existing) === '.' || dirname(existing) === existing) return path;
    rest = join(existing.slice(dirname(existing).length + 1), rest);
    existing = dirname(existing);
  }
}

/** The directories above `paths` that do not exist yet, parents first. */
async function missingDirs(tree: string, paths: string[]): Promise<string[]> {
  const missing = new Set<string>();
  for (const path of paths) {
    const chain: string[] = [];
    for (let dir = dirname(path); dir !== '.' && !(await lstat(join(tree, dir)).catch(() => undefined)); dir = dirname(dir)) chain.unshift(dir);
    for (const dir of chain) missing.add(dir);
  }
  return [...missing].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
}

/** Write a file by renaming a complete copy over it, so a kill never leaves it half written. */
async function replaceFile(from: string, to: string, mode?: number): Promise<void> {
  const temp = `${to}.hotsplice-tmp`;
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, temp);
  if (mode !== undefined) await chmod(temp, mode);
  await rename(temp, to);
}
