import { dirname, join } from 'node:path';
import { readKbuildRecord } from './deps';
import { includers, loadIncludeIndex, reverseIncludes } from './include-index';
import { KbuildConfig } from './kbuild-makefile';

/**
 * The objects a header change affects: every C file that includes it (the include index), that kbuild builds in
 * this configuration (the Makefiles), and — where kbuild already recorded the object's dependencies — whose
 * `.cmd` really lists the header. Objects never built are kept (the manifest step builds them and the diff finds
 * them unchanged if the header was not really used).
 */
export async function objectsIncluding(tree: string, headers: string[]): Promise<string[]> {
  return [...new Set([...(await objectsIncludingEach(tree, headers)).values()].flat())].sort();
}

/** objectsIncluding per header, with one read of the index and the Makefiles for all of them. */
export async function objectsIncludingEach(tree: string, headers: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!headers.length) return out;
  const reverse = reverseIncludes(await loadIncludeIndex(tree, join(dirname(tree), '..', 'include-index.json')));
  const config = await KbuildConfig.load(tree);
  for (const header of headers) {
    const objects: string[] = [];
    for (const source of includers(reverse, header)) {
      const object = source.replace(/\.c$/, '.o');
      if (!(await config.built(object))) continue;
      const record = await readKbuildRecord(tree, object);
      if (record && !record.deps.includes(header)) continue;
      objects.push(object);
    }
    out.set(header, objects.sort());
  }
  return out;
}
