import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

/**
 * Which C files include a header, directly or through other headers, from a scan of every `#include` in the tree
 * (no build). The header patch's candidates; `builtInConfig` and a `gcc -MM` check narrow them down.
 */
export interface IncludeIndex {
  format: 1;
  /** Tree-relative file → its `#include` specs as written: `<linux/x.h>` or `"x.h"`. */
  includes: Record<string, string[]>;
}

/** The -I order of kbuild's x86 builds (Makefile: LINUXINCLUDE, USERINCLUDE). */
const SYSTEM_DIRS = ['arch/x86/include', 'arch/x86/include/generated', 'include', 'arch/x86/include/uapi', 'arch/x86/include/generated/uapi', 'include/uapi', 'include/generated/uapi'];
const INCLUDE = /^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]/gm;

export async function buildIncludeIndex(tree: string): Promise<IncludeIndex> {
  // Loaded here, not with the module: evaluating fast-glob cost the Nx plugin's every start ~30 ms (docs/decisions.md).
  const { default: fg } = await import('fast-glob');
  const files = await fg(['**/*.c', '**/*.h'], {
    cwd: tree,
    ignore: ['arch/!(x86)/**', 'tools/**', 'scripts/**', 'Documentation/**', 'samples/**', 'usr/**'],
    followSymbolicLinks: false,
  });
  const includes: Record<string, string[]> = {};
  const batch = 256;
  for (let i = 0; i < files.length; i += batch) {
    await Promise.all(
      files.slice(i, i + batch).map(async (file) => {
        const text = await readFile(join(tree, file), 'latin1');
        const specs = [...text.matchAll(INCLUDE)].map((m) => `${m[1]}${m[2].trim()}${m[1] === '<' ? '>' : '"'}`);
        includes[file] = specs;
      }),
    );
  }
  return { format: 1, includes };
}

/** The index of a tree, built once and kept in `cacheFile` (the tree is pristine outside a journaled run). */
export async function loadIncludeIndex(tree: string, cacheFile: string): Promise<IncludeIndex> {
  try {
    const index = JSON.parse(await readFile(cacheFile, 'utf8')) as IncludeIndex;
    if (index.format === 1) return index;
  } catch {
    // not built yet
  }
  const index = await buildIncludeIndex(tree);
  await mkdir(dirname(cacheFile), { recursive: true });
  await writeFile(`${cacheFile}.tmp`, JSON.stringify(index));
  await rename(`${cacheFile}.tmp`, cacheFile);
  return index;
}

/** The file an include spec in `from` names, as the preprocessor would find it (first match wins). */
export function resolveInclude(index: IncludeIndex, from: string, spec: string): string | undefined {
  const name = spec.slice(1, -1);
  const local = spec.startsWith('"') ? [posix.normalize(posix.join(posix.dirname(from), name))] : [];
  return [...local, ...SYSTEM_DIRS.map((d) => `${d}/${name}`)].find((path) => path in index.includes);
}

/** Who includes each file: the index turned around (built once for any number of headers). */
export type Includers = Map<string, string[]>;

export function reverseIncludes(index: IncludeIndex): Includers {
  const reverse: Includers = new Map();
  for (const [file, specs] of Object.entries(index.includes)) {
    for (const spec of specs) {
      const target = resolveInclude(index, file, spec);
      if (target) {
        const list = reverse.get(target);
        if (list) list.push(file);
        else reverse.set(target, [file]);
      }
    }
  }
  return reverse;
}

/**
 * Every .c file that includes `header`, directly or through other files: headers, and .c files other .c files
 * include (kernel/sched/build_policy.c includes rt.c, which includes its own headers).
 */
export function includers(index: IncludeIndex | Includers, header: string): string[] {
  const reverse = index instanceof Map ? index : reverseIncludes(index);
  const seen = new Set([header]);
  const queue = [header];
  const sources = new Set<string>();
  while (queue.length) {
    for (const file of reverse.get(queue.shift()!) ?? []) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (file.endsWith('.c')) sources.add(file);
      queue.push(file);
    }
  }
  return [...sources].sort();
}
