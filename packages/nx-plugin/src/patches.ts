import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { type KernelPaths, cacheRoot, cachedDebianUpdate, deltaPatch } from '@hotsplice/kernel';
import type { PatchInput } from '@hotsplice/tree';
import { type HotpatchConfig, selected } from './config';

type Kernel = Pick<KernelPaths, 'sourceTree' | 'version'>;

/**
 * The patch texts of an update, from hotpatch.json: patch files (ksplice-create --patch), a git range
 * (--git), a directory of changed files named <tree path><ext> (--diffext), diffed against the tree, or the C
 * sources and headers a Debian update changes (--debian-update; its delta must have been fetched, which the
 * prepare step does).
 */
export function readPatches(config: HotpatchConfig, workspaceRoot: string, kernel?: Kernel): PatchInput[] {
  return readTexts(config, workspaceRoot, kernel).map((p) => ({ ...p, fuzz: config.fuzz }));
}

function readTexts(config: HotpatchConfig, workspaceRoot: string, kernel?: Kernel): PatchInput[] {
  const sourceTree = kernel?.sourceTree;
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
  if (config.debianUpdate) {
    if (!kernel) throw new Error('hotpatch.json "debianUpdate" needs the prepared kernel');
    const delta = cachedDebianUpdate(cacheRoot(), kernel.version, config.debianUpdate);
    if (!delta) throw new Error(`Debian update ${config.debianUpdate} for ${kernel.version} is not fetched; run the prepare step`);
    for (const file of delta.files) {
      if (file.kind === 'source' && selected(config, file.path)) patches.push({ name: `debian ${delta.to}: ${file.path}`, text: deltaPatch(cacheRoot(), delta, file) });
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
