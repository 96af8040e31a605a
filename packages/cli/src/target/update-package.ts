// An update package opened on the target machine: unpacked into a private directory after every member's sha256
// (and size) matched the manifest.
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserError, naming, systemCause } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { parseManifest } from './manifest';
import { makeTempDir } from './temp-dir';
import { untarGz } from './untar';

export interface OpenedUpdate {
  manifest: Manifest;
  /** Private directory (mode 0700) holding the members. */
  dir: string;
  /** The livepatch module, `<dir>/<module>.ko`. */
  ko: string;
  /** The old-code object for run-pre matching. */
  oldCode: string;
  /** run-pre-symbols.json: System.map addresses of the names the old code refers to (packages built since it exists). */
  runPreSymbols?: string;
  close(): Promise<void>;
}

/** Read, verify and unpack an update package; nothing is written unless every check passed. */
export async function openUpdate(path: string): Promise<OpenedUpdate> {
  const label = basename(path);
  const files = await readPackage(path, label);
  const manifest = parseManifest(files.get('manifest.json'), label);
  for (const [name, sum] of Object.entries(manifest.members)) {
    const data = files.get(name);
    if (!data) throw new UserError(`${label}: ${name} is listed in the manifest but missing`);
    if (sha256(data) !== sum) throw new UserError(`${label}: ${name} does not match its sha256 in the manifest`);
  }
  for (const name of files.keys()) {
    if (name !== 'manifest.json' && !(name in manifest.members)) throw new UserError(`${label}: ${name} is not listed in the manifest`);
  }
  const ko = `${manifest.module}.ko`;
  for (const needed of [ko, 'old-code.o']) if (!files.has(needed)) throw new UserError(`${label}: ${needed} is missing`);

  const dir = await makeTempDir('hotsplice-apply-');
  try {
    for (const [name, data] of files) await writeFile(join(dir, name), data, { mode: 0o600, flag: 'wx' }).catch(naming(join(dir, name)));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    manifest,
    dir,
    ko: join(dir, ko),
    oldCode: join(dir, 'old-code.o'),
    runPreSymbols: files.has('run-pre-symbols.json') ? join(dir, 'run-pre-symbols.json') : undefined,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The package's members, unpacked under UNPACK_CAP. Packages list every member's size and carry manifest.json
 * first (packages/link since sizes exist): from then on a member must have its listed size, and the whole archive
 * may not unpack past what the manifest accounts for. Older packages are bounded by the cap alone.
 */
async function readPackage(path: string, label: string): Promise<Map<string, Buffer>> {
  let manifest: Manifest | undefined;
  return untarGz(path, label, {
    onHeader(name, size) {
      if (!manifest?.sizes || name === 'manifest.json') return;
      if (!(name in manifest.members)) throw new UserError(`${label}: ${name} is not listed in the manifest`);
      const listed = manifest.sizes[name];
      if (listed !== size) throw new UserError(`${label}: ${name} is ${size} bytes; the manifest says ${listed ?? 'nothing'}`);
    },
    onMember(name, data) {
      if (name !== 'manifest.json') return undefined;
      manifest = parseManifest(data, label);
      return manifest.sizes ? tarBytes([data.length, ...Object.values(manifest.sizes)]) : undefined;
    },
  }).catch((err: unknown) => {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read the update package ${path}${systemCause(err) ? `: ${systemCause(err)}` : ''}`);
  });
}

/** The most a ustar archive of members of these sizes takes: a header and padding each, two end blocks, a record's padding. */
function tarBytes(sizes: number[]): number {
  const BLOCK = 512;
  return sizes.reduce((n, size) => n + BLOCK + Math.ceil(size / BLOCK) * BLOCK, 0) + 2 * BLOCK + 20 * BLOCK;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
