import { type PatchInput, type PatchedFile, parsePatch } from '@hotsplice/tree';

/** The kernel objects a set of patches affects, and the headers that need the include index. */
export interface Affected {
  objects: string[];
  headers: string[];
  files: PatchedFile[];
}

/** A `.c` file is compiled into the `.o` beside it; a header affects every object that includes it. */
export function affectedObjects(patches: PatchInput[]): Affected {
  const files = patches.flatMap((p) => parsePatch(p.text, p.name));
  const objects = new Set<string>();
  const headers: string[] = [];
  for (const file of files) {
    if (file.path.endsWith('.c')) objects.add(file.path.replace(/\.c$/, '.o'));
    else if (file.path.endsWith('.h')) headers.push(file.path);
    else throw new Error(`${file.path}: only C sources and headers can be hot-patched`);
  }
  return { objects: [...objects].sort(), headers, files };
}
