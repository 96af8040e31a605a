// The installed updates: what the machine keeps across reboots (hotsplice install), one folder per kernel ABI under
// the state directory, `updates/<abi>/<id>.tar.gz` and beside it `<id>.json` (when it was installed, its manifest).
// The package file is the truth: every apply opens and verifies it again; the JSON only lists it cheaply.
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, environmentError, systemCause } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { parseManifest } from './manifest';
import { stateDir } from './records';

export interface Installed {
  /** ISO time of the install: boot re-applies in this order, so the machine comes back as it was. */
  installed: string;
  manifest: Manifest;
  /** The stored package file. */
  package: string;
}

export const updatesDir = (abi: string) => join(stateDir(), 'updates', abi);

/** Store a verified package for its ABI (atomically: a half-copied package is never listed). */
export async function storeUpdate(source: string, manifest: Manifest): Promise<Installed> {
  const dir = updatesDir(manifest.kernel.abi);
  const pkg = join(dir, `${manifest.id}.tar.gz`);
  const entry: Installed = { installed: new Date().toISOString(), manifest, package: pkg };
  try {
    await mkdir(dir, { recursive: true });
    await copyFile(source, `${pkg}.partial`);
    await rename(`${pkg}.partial`, pkg);
    const { package: _, ...listed } = entry;
    await writeFile(`${jsonOf(pkg)}.partial`, `${JSON.stringify(listed, null, 2)}\n`);
    await rename(`${jsonOf(pkg)}.partial`, jsonOf(pkg));
  } catch (err) {
    await Promise.all([rm(`${pkg}.partial`, { force: true }), rm(`${jsonOf(pkg)}.partial`, { force: true })]).catch(() => undefined);
    throw new UserError(`cannot store the update in ${dir} (HOTSPLICE_STATE_DIR): ${environmentError(err)?.message ?? String(err)}`);
  }
  return entry;
}

/** Remove an installed update's files (the listing first, so a half-removed one is not listed). */
export async function unstoreUpdate(entry: Installed): Promise<void> {
  for (const file of [jsonOf(entry.package), entry.package]) {
    await rm(file, { force: true }).catch((err: unknown) => {
      throw new UserError(`cannot remove ${file}: ${systemCause(err) ?? String(err)}`);
    });
  }
}

/** Every installed update, by ABI folder (all ABIs, or one), in install order; an unreadable entry is a warning. */
export async function installedUpdates(abi?: string): Promise<Installed[]> {
  const root = join(stateDir(), 'updates');
  const abis = abi ? [abi] : await readdir(root).catch(() => [] as string[]);
  const out: Installed[] = [];
  for (const dir of abis.map((a) => join(root, a))) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const file = join(dir, name);
      const pkg = join(dir, `${name.slice(0, -'.json'.length)}.tar.gz`);
      try {
        const listed = JSON.parse(await readFile(file, 'utf8')) as { installed?: unknown; manifest?: unknown };
        if (typeof listed.installed !== 'string') throw new UserError('installed is not a time');
        const manifest = parseManifest(Buffer.from(JSON.stringify(listed.manifest)), file);
        out.push({ installed: listed.installed, manifest, package: pkg });
      } catch (err) {
        const cause = err instanceof UserError ? err.message : systemCause(err) ?? String(err);
        process.stderr.write(`hotsplice: warning: ${file}: ${cause}; ignored\n`);
      }
    }
  }
  return out.sort((a, b) => (a.installed < b.installed ? -1 : a.installed > b.installed ? 1 : a.manifest.id < b.manifest.id ? -1 : 1));
}

const jsonOf = (pkg: string) => pkg.replace(/\.tar\.gz$/, '.json');
