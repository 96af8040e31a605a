import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { PatchInput } from '@hotsplice/tree';
import type { HotpatchConfig } from './config';

/**
 * The patch texts of an update, from hotpatch.json: patch files (ksplice-create --patch), a git range
 * (--git), or a directory of changed files named <tree path><ext> (--diffext), diffed against the tree.
 */
export function readPatches(config: HotpatchConfig, workspaceRoot: string, sourceTree?: string): PatchInput[] {
  const patches: PatchInput[] = config.patches.map((file) => ({ name: file, text: read(resolve(workspaceRoot, file), file) }));
  if (config.git) {
    const repo = join(workspaceRoot, config.git.repo ?? '.');
    const text = execFileSync('git', ['-C', repo, 'diff', '--no-color', '--no-ext-diff', config.git.range], { encoding: 'utf8' });
    patches.push({ name: `git ${config.git.range}`, text });
  }
  if (config.diffext) {
    if (!sourceTree) throw new Error('hotpatch.json "diffext" needs the prepared kernel tree');
    const dir = join(workspaceRoot, config.diffext.dir);
    for (const file of walk(dir).filter((f) => f.endsWith(config.diffext!.ext)).sort()) {
      const path = relative(dir, file).slice(0, -config.diffext.ext.length);
      patches.push({ name: relative(workspaceRoot, file), text: unifiedDiff(join(sourceTree, path), file, path) });
    }
  }
  return patches;
}

function read(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`cannot read patch ${name}`);
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** `diff -u` of a tree file against its changed copy, labelled a/<path> b/<path>. */
function unifiedDiff(original: string, changed: string, path: string): string {
  try {
    execFileSync('diff', ['-u', '--label', `a/${path}`, '--label', `b/${path}`, original, changed], { encoding: 'utf8' });
    return '';
  } catch (err) {
    const e = err as { status?: number; stdout?: string };
    if (e.status === 1 && e.stdout) return e.stdout;
    throw new Error(`diff ${path} failed`);
  }
}
