// The kernel's livepatch state as sysfs shows it (kernel/livepatch/core.c, Documentation/ABI/testing/sysfs-kernel-livepatch):
// /sys/kernel/livepatch/<patch>/{enabled,transition,force}, one directory per klp object with `patched`, and in it
// one directory per function named "<function>,<sympos>".
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';

export const LIVEPATCH_SYSFS = '/sys/kernel/livepatch';

export interface PatchObject {
  /** "vmlinux" or a module name. */
  name: string;
  /** 1 once its functions are redirected (a module object stays 0 until that module loads). */
  patched: boolean;
  /** sysfs names a function "<name>,<sympos>" with sympos 0 (unique name) shown as 1 (klp_init_func). */
  functions: Array<{ name: string; sympos: number }>;
}

export interface PatchState {
  module: string;
  enabled: boolean;
  /** A patch or unpatch transition is still moving tasks over. */
  transition: boolean;
  objects: PatchObject[];
}

export type UpdateState = 'applied' | 'applying' | 'undoing' | 'disabled';

export function stateOf(p: PatchState): UpdateState {
  if (p.transition) return p.enabled ? 'applying' : 'undoing';
  return p.enabled ? 'applied' : 'disabled';
}

/** The livepatch `module` registered, or undefined. */
export async function readPatch(module: string): Promise<PatchState | undefined> {
  const dir = join(LIVEPATCH_SYSFS, module);
  const [enabled, transition] = await Promise.all([flag(join(dir, 'enabled')), flag(join(dir, 'transition'))]);
  if (enabled === undefined || transition === undefined) return undefined;
  const objects: PatchObject[] = [];
  // The kernel removes the whole directory when the patch is freed (klp_free_patch_finish), which can happen
  // between any two reads here, e.g. right after a forced unpatch: a part gone missing means the patch is gone.
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === 'power') continue;
    const [patched, inObject] = await Promise.all([flag(join(dir, entry.name, 'patched')), readdir(join(dir, entry.name), { withFileTypes: true }).catch(() => undefined)]);
    if (patched === undefined || !inObject) {
      if ((await flag(join(dir, 'enabled'))) === undefined) return undefined;
      continue; // not a klp object's directory
    }
    const functions = inObject
      .filter((f) => f.isDirectory() && f.name.includes(','))
      .map((f) => ({ name: f.name.slice(0, f.name.lastIndexOf(',')), sympos: Number(f.name.slice(f.name.lastIndexOf(',') + 1)) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.sympos - b.sympos));
    objects.push({ name: entry.name, patched, functions });
  }
  objects.sort((a, b) => (a.name === 'vmlinux' ? -1 : b.name === 'vmlinux' ? 1 : a.name < b.name ? -1 : 1));
  return { module, enabled, transition, objects };
}

/** Every registered livepatch, by name. */
export async function listPatches(): Promise<PatchState[]> {
  if (!existsSync(LIVEPATCH_SYSFS)) throw new UserError(`${LIVEPATCH_SYSFS} does not exist: this kernel has no livepatch support (CONFIG_LIVEPATCH)`);
  const names = (await readdir(LIVEPATCH_SYSFS)).sort();
  const patches = await Promise.all(names.map(readPatch));
  return patches.filter((p): p is PatchState => p !== undefined);
}

export async function setEnabled(module: string, enabled: boolean): Promise<void> {
  await writeSysfs(join(LIVEPATCH_SYSFS, module, 'enabled'), enabled ? '1' : '0');
}

/** Livepatch's `force`: marks every task as switched, ending a stalled transition (unsafe; taints the kernel). */
export async function forceTransition(module: string): Promise<void> {
  await writeSysfs(join(LIVEPATCH_SYSFS, module, 'force'), '1');
}

/** Whether a module of this name is loaded (livepatch or not). */
export function moduleLoaded(module: string): boolean {
  return existsSync(join('/sys/module', module));
}

async function flag(path: string): Promise<boolean | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : text.trim() === '1';
}

async function writeSysfs(path: string, value: string): Promise<void> {
  await writeFile(path, value).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`cannot write ${value} to ${path}: ${err.code === 'EACCES' ? 'permission denied (run as root)' : err.message}`);
  });
}
