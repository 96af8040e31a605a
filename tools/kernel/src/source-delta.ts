import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inParallel } from './parallel';

/** How one file that differs between two Debian source versions reaches (or not) a live update. */
export type ChangeKind =
  /** C source or header: patched, built and diffed. */
  | 'source'
  /** Changes the running kernel but cannot be live-patched (build files, Kconfig, assembly, a deleted file). */
  | 'not-live-patchable'
  /** Not part of the running kernel at all (documentation, other architectures, user-space tools, build scripts). */
  | 'outside-the-kernel';

export interface ChangedFile {
  path: string;
  kind: ChangeKind;
  /** Why it is not a source change. */
  reason?: string;
  created?: boolean;
  deleted?: boolean;
}

/** Paths whose files never end up in the x86-64 kernel image or its modules. */
const OUTSIDE: Array<[RegExp, string]> = [
  [/^Documentation\//, 'documentation'],
  [/^arch\/(?!x86\/)[^/]+\//, 'another architecture'],
  [/^(tools|samples|usr)\//, 'user-space tools and samples'],
  [/^scripts\//, 'build scripts'],
  [/^(LICENSES\/|MAINTAINERS$|CREDITS$|README$|COPYING$|\.[^/]+$)/, 'project metadata'],
  [/(^|\/)\.[^/]+$/, 'tool configuration'],
];

const NOT_PATCHABLE: Array<[RegExp, string]> = [
  [/(^|\/)(Makefile|Kbuild)[^/]*$/, 'build files change how objects are built, not code'],
  [/(^|\/)Kconfig[^/]*$/, 'configuration changes need a new kernel'],
  [/\.S$/, 'assembly (.S) cannot be livepatched'],
];

/** Classify a changed path (pure: the path and whether the file exists before and after). */
export function classifyChange(path: string, before: boolean, after: boolean): ChangedFile {
  const flags = { ...(before ? {} : { created: true }), ...(after ? {} : { deleted: true }) };
  const outside = OUTSIDE.find(([re]) => re.test(path));
  if (outside) return { path, kind: 'outside-the-kernel', reason: outside[1], ...flags };
  const refused = NOT_PATCHABLE.find(([re]) => re.test(path));
  if (refused) return { path, kind: 'not-live-patchable', reason: refused[1], ...flags };
  if (!/\.[ch]$/.test(path)) return { path, kind: 'not-live-patchable', reason: 'not C code (only .c and .h files are live-patched)', ...flags };
  if (!after) return { path, kind: 'not-live-patchable', reason: 'deleted: removing code cannot be live-patched', ...flags };
  return { path, kind: 'source', ...flags };
}

/** Every regular file under `root`, tree-relative (symlinks compared by their target elsewhere: skipped). */
async function files(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  await inParallel(entries.filter((e) => e.isFile()), 64, async (e) => {
    const full = join(e.parentPath, e.name);
    out.set(full.slice(root.length + 1), (await stat(full)).size);
  });
  return out;
}

/** The tree-relative paths whose contents differ between two trees (present in one only, or other bytes). */
export async function changedPaths(before: string, after: string): Promise<Array<{ path: string; before: boolean; after: boolean }>> {
  const [a, b] = await Promise.all([files(before), files(after)]);
  const changed: Array<{ path: string; before: boolean; after: boolean }> = [];
  const both: string[] = [];
  for (const [path, size] of a) {
    if (!b.has(path)) changed.push({ path, before: true, after: false });
    else if (b.get(path) !== size) changed.push({ path, before: true, after: true });
    else both.push(path);
  }
  for (const path of b.keys()) if (!a.has(path)) changed.push({ path, before: false, after: true });
  await inParallel(both, 32, async (path) => {
    if (!(await sameBytes(join(before, path), join(after, path)))) changed.push({ path, before: true, after: true });
  });
  return changed.sort((x, y) => (x.path < y.path ? -1 : 1));
}

async function sameBytes(x: string, y: string): Promise<boolean> {
  const [fx, fy] = await Promise.all([open(x), open(y)]);
  try {
    const size = 1 << 16;
    const [bx, by] = [Buffer.alloc(size), Buffer.alloc(size)];
    for (let at = 0; ; at += size) {
      const [rx, ry] = await Promise.all([fx.read(bx, 0, size, at), fy.read(by, 0, size, at)]);
      if (rx.bytesRead !== ry.bytesRead || !bx.subarray(0, rx.bytesRead).equals(by.subarray(0, ry.bytesRead))) return false;
      if (rx.bytesRead < size) return true;
    }
  } finally {
    await Promise.all([fx.close(), fy.close()]);
  }
}
