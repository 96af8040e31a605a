import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';

/** The .ko of a loadable module in Debian's image package (file names may use '-' where the module name has '_'). */
export async function findModule(modulesDir: string, name: string): Promise<string> {
  const wanted = `${name.replace(/-/g, '_')}.ko`;
  const entries = await readdir(join(modulesDir, 'kernel'), { recursive: true });
  const hit = entries.find((e) => e.split('/').pop()!.replace(/-/g, '_') === wanted);
  if (!hit) throw new UserError(`module ${name}: no ${wanted} in ${modulesDir}`);
  return join(modulesDir, 'kernel', hit);
}
