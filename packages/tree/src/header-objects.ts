import { dirname, join } from 'node:path';
import { readKbuildRecord } from './deps';
import { includers, loadIncludeIndex, reverseIncludes } from './include-index';
import type { BuiltSources } from './kbuild-plan';

/**
 * The objects each changed file (a header, or a .c file others include) can affect: the objects kbuild builds
 * (`built`, from its plan) from every C file that includes it per the include index, leaving out those whose
 * recorded dependencies (their `.cmd`, when kbuild built them) do not name it. The header narrowing then decides
 * which of these candidates to compile.
 */
export async function objectsIncludingEach(tree: string, files: string[], built: BuiltSources): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!files.length) return out;
  const reverse = reverseIncludes(await loadIncludeIndex(tree, join(dirname(tree), '..', 'include-index.json')));
  for (const file of files) {
    const objects = new Set<string>();
    for (const source of includers(reverse, file)) {
      for (const object of built.objectsOf(source)) {
        const record = await readKbuildRecord(tree, object);
        if (record && !record.deps.includes(file)) continue;
        objects.add(object);
      }
    }
    out.set(file, [...objects].sort());
  }
  return out;
}
