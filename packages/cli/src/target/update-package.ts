// An update package opened on the target machine: unpacked into a private directory after every member's sha256
// matched the manifest.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { UserError } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';
import { untarGz } from './untar';

/** The manifest format this CLI understands (packages/link writes it). */
const FORMAT = 'hotsplice-update/1';

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
  const archive = await readFile(path).catch(() => {
    throw new UserError(`cannot read the update package ${path}`);
  });
  const files = untarGz(archive, label);
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

  const dir = await mkdtemp(join(tmpdir(), 'hotsplice-apply-'));
  try {
    for (const [name, data] of files) await writeFile(join(dir, name), data, { mode: 0o600, flag: 'wx' });
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

function parseManifest(data: Buffer | undefined, label: string): Manifest {
  if (!data) throw new UserError(`${label}: no manifest.json (not a hotsplice update package)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(data.toString('utf8')) as Manifest;
  } catch {
    throw new UserError(`${label}: manifest.json is not JSON`);
  }
  if (manifest.format !== FORMAT) throw new UserError(`${label}: manifest format "${manifest.format}" is not ${FORMAT}`);
  if (!/^[a-z0-9_]{1,55}$/.test(manifest.module ?? '')) throw new UserError(`${label}: manifest names no valid module`);
  if (!manifest.members || typeof manifest.members !== 'object') throw new UserError(`${label}: manifest lists no members`);
  for (const name of Object.keys(manifest.members)) {
    if (name.includes('/')) throw new UserError(`${label}: manifest member "${name}" is not a plain file name`);
  }
  return manifest;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
