import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from './errors';

/**
 * Debian's linux-headers-<abi>/Makefile is one line, `include /usr/src/linux-headers-<base>-common[-rt]/Makefile`:
 * an absolute path that only exists when the package is installed. Rewrite it to the sibling directory of the
 * unpacked tree, found relative to the Makefile itself so it holds whatever make's working directory is.
 */
export function rewriteHeadersMakefile(text: string): string {
  // The rt flavour's headers include `…-common-rt` (its own common package, release.ts releasePackages).
  const absolute = /^include\s+\/usr\/src\/(linux-headers-[^/\s]+-common(?:-rt)?)\/Makefile[ \t]*$/m;
  const match = absolute.exec(text);
  if (!match) {
    if (/^include \$\(dir \$\(lastword \$\(MAKEFILE_LIST\)\)\)\.\.\//m.test(text)) return text; // already rewritten
    throw new UserError('headers Makefile has no "include /usr/src/linux-headers-*-common/Makefile" line');
  }
  return text.replace(absolute, `include $(dir $(lastword $(MAKEFILE_LIST)))../${match[1]}/Makefile`);
}

export async function fixHeadersMakefile(headersTree: string): Promise<void> {
  const makefile = join(headersTree, 'Makefile');
  await writeFile(makefile, rewriteHeadersMakefile(await readFile(makefile, 'utf8')));
}
