import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Cache root outside the repo: `$HOTSPLICE_CACHE`, default `~/.cache/hotsplice`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOTSPLICE_CACHE || join(env.HOME || homedir(), '.cache', 'hotsplice');
}

/**
 * Bumped whenever the way a cached step is produced changes, so old cache entries are redone
 * instead of trusted. It is part of every marker key.
 */
export const RECIPE = 1;

const MARKER = '.hotsplice-done';

/** A step's output directory is complete only when its marker, written last, holds the expected key. */
export async function isDone(dir: string, key: string): Promise<boolean> {
  try {
    return (await readFile(join(dir, MARKER), 'utf8')) === markerText(key);
  } catch {
    return false;
  }
}

export async function markDone(dir: string, key: string): Promise<void> {
  await writeFile(join(dir, `${MARKER}.tmp`), markerText(key));
  await rename(join(dir, `${MARKER}.tmp`), join(dir, MARKER));
}

function markerText(key: string): string {
  return `${JSON.stringify({ key, recipe: RECIPE })}\n`;
}

/**
 * Produce `dir` once per key. A directory left by an interrupted run (no marker or another key) is
 * removed and produced again; `produce` writes into the directory it is given.
 */
export async function once(dir: string, key: string, produce: (dir: string) => Promise<void>): Promise<boolean> {
  if (await isDone(dir, key)) return false;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await produce(dir);
  await markDone(dir, key);
  return true;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
