import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { PatchInput } from '@hotsplice/tree';
import type { HotpatchConfig } from './config';

/**
 * The patch texts of an update, from hotpatch.json: patch files (ksplice-create --patch), a git range
 * (--git), or a directory of changed files named <tree path><ext> (--diffext), diffed against the tree.
 */
export function readPatches(config: HotpatchConfig, workspaceRoot: string, sourceTree?: string): PatchInput[] {
  return readTexts(config, workspaceRoot, sourceTree).map((p) => ({ ...p, fuzz: config.fuzz }));
}

function readTexts(config: HotpatchConfig, workspaceRoot: string, sourceTree?: string): PatchInput[] {
  const patches: PatchInput[] = config.patches.map((file) => ({ name: file, text: read(resolve(workspaceRoot, file), file) }));
  // Paths in hotpatch.json are relative to its folder, or absolute (`hotsplice create` writes absolute ones).
  if (config.git) {
    const repo = resolve(workspaceRoot, config.git.repo ?? '.');
    patches.push({ name: `git ${config.git.range}`, text: gitDiff(repo, config.git.range) });
  }
  if (config.diffext) {
    if (!sourceTree) throw new Error('hotpatch.json "diffext" needs the prepared kernel tree');
    const dir = resolve(workspaceRoot, config.diffext.dir);
    const files = walk(dir).filter((f) => f.endsWith(config.diffext!.ext)).sort();
    if (!files.length) throw new Error(`diffext: no file ending in "${config.diffext.ext}" under ${dir}`);
    for (const file of files) {
      const path = relative(dir, file).slice(0, -config.diffext.ext.length);
      const name = relative(workspaceRoot, file);
      patches.push({ name: name.startsWith('..') || isAbsolute(name) ? file : name, text: unifiedDiff(join(sourceTree, path), file, path) });
    }
  }
  return patches;
}

/** `git diff RANGE` in `repo`; git's own complaint (not a repository, unknown revision) becomes the one line. */
function gitDiff(repo: string, range: string): string {
  try {
    return execFileSync('git', ['-C', repo, 'diff', '--no-color', '--no-ext-diff', range], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim().split('\n')[0];
    throw new Error(`git diff ${range} in ${repo} failed: ${stderr || (err as Error).message}`);
  }
}

function read(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`cannot read patch ${name}`);
  }
}

function walk(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new Error(`diffext: cannot read the folder ${dir}`);
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** `diff -u` of a tree file against its changed copy, labelled a/<path> b/<path> (/dev/null: a new file). */
function unifiedDiff(original: string, changed: string, path: string): string {
  const [from, label] = existsSync(original) ? [original, `a/${path}`] : ['/dev/null', '/dev/null'];
  try {
    execFileSync('diff', ['-u', '--label', label, '--label', `b/${path}`, from, changed], { encoding: 'utf8' });
    return '';
  } catch (err) {
    const e = err as { status?: number; stdout?: string };
    if (e.status === 1 && e.stdout) return e.stdout;
    throw new Error(`diff ${path} failed`);
  }
}
