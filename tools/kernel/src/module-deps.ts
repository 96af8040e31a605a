import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { uncompressedModule } from './module-file';

/**
 * The .ko files to insmod, in order, so that `name` loads on a machine without modprobe's modules.dep: its
 * dependencies first (each module's `depends=` modinfo field, what depmod reads), depth first. Paths are inside
 * the image package's modules folder; built-in dependencies (modules.builtin) need no file.
 */
export async function moduleLoadOrder(modulesDir: string, name: string): Promise<string[]> {
  const paths = new Map<string, string>();
  for (const line of (await readFile(join(modulesDir, 'modules.order'), 'utf8')).split('\n')) {
    const m = /([^/]+)\.ko$/.exec(line.trim());
    if (m) paths.set(m[1]!.replace(/-/g, '_'), join(modulesDir, line.trim()));
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = async (module: string): Promise<void> => {
    const key = module.replace(/-/g, '_');
    if (seen.has(key)) return;
    seen.add(key);
    const file = paths.get(key);
    if (!file) return; // built in
    const ko = await uncompressedModule(file); // trixie ships .ko.xz
    const { stdout } = await promisify(execFile)('modinfo', ['-F', 'depends', ko]);
    for (const dep of stdout.trim().split(',').filter(Boolean)) await visit(dep);
    order.push(ko);
  };
  await visit(name);
  if (!order.length) throw new Error(`module ${name}: not in ${join(modulesDir, 'modules.order')}`);
  return order;
}
