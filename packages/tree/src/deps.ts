import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** kbuild's record of an object's command and dependencies: `<dir>/.<name>.o.cmd` (scripts/basic/fixdep.c). */
export function cmdFileOf(object: string): string {
  return join(dirname(object), `.${basename(object)}.cmd`);
}

export interface KbuildRecord {
  /** Source and headers the object was built from, relative to the tree (config dependencies left out). */
  deps: string[];
  /** The module the object is part of (-DKBUILD_MODNAME with -DMODULE), or undefined for vmlinux. */
  module?: string;
}

/**
 * Parse a `.X.o.cmd` file: `cmd_X.o := gcc …` (`savedcmd_X.o` since 6.2's scripts/Kbuild.include: 6.12 writes
 * that), `source_X.o := X.c`, `deps_X.o := \ a.h \ $(wildcard …) …`.
 */
export function parseCmdFile(text: string): KbuildRecord {
  const deps: string[] = [];
  const source = /^source_\S+ := (\S+)$/m.exec(text)?.[1];
  if (source) deps.push(source);
  const block = /^deps_\S+ := \\\n([\s\S]*?)\n\n/m.exec(`${text}\n\n`)?.[1] ?? '';
  for (const line of block.split('\n')) {
    const entry = line.trim().replace(/\s*\\$/, '');
    if (entry && !entry.startsWith('$(wildcard')) deps.push(entry);
  }
  const command = /^(?:saved)?cmd_\S+ := (.*)$/m.exec(text)?.[1] ?? '';
  const module = / -DMODULE\b/.test(command) ? /-DKBUILD_MODNAME='"([^"]+)"'/.exec(command)?.[1] : undefined;
  return { deps: [...new Set(deps)], module };
}

export async function readKbuildRecord(tree: string, object: string): Promise<KbuildRecord | undefined> {
  const text = await readFile(join(tree, cmdFileOf(object)), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseCmdFile(text);
}
