// What apply remembers about each update it loaded: when, from which package, with what manifest. sysfs is the
// truth about what is loaded; these records add what sysfs cannot tell (the id, the time, the package). A record
// that cannot be read is reported in one line and ignored: it must never stop view, status or undo.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, environmentError, systemCause } from '@hotsplice/kernel';
import type { Manifest } from '@hotsplice/link';

export interface UpdateRecord {
  id: string;
  module: string;
  /** ISO time apply began loading the update (the record is written before the module loads). */
  since: string;
  package: string;
  replace: boolean;
  kernel: Manifest['kernel'];
  objects: Manifest['objects'];
  /** From the manifest, for status and view: the patch level, the CVEs it fixes, its effective Debian version. */
  level?: number;
  cves?: string[];
  effectiveVersion?: string;
}

/** The manifest's delivery facts as a record keeps them (absent ones stay absent). */
export function fixesOf(manifest: Manifest): Pick<UpdateRecord, 'level' | 'cves' | 'effectiveVersion'> {
  return {
    ...(manifest.level !== undefined ? { level: manifest.level } : {}),
    ...(manifest.cves ? { cves: manifest.cves } : {}),
    ...(manifest.effectiveVersion ? { effectiveVersion: manifest.effectiveVersion } : {}),
  };
}

export function stateDir(): string {
  return process.env.HOTSPLICE_STATE_DIR ?? '/var/lib/hotsplice';
}

const recordFile = (module: string) => join(stateDir(), 'applied', `${module}.json`);

/** Write the record atomically; a state directory that cannot take it is one line naming the file. */
export async function writeRecord(record: UpdateRecord): Promise<void> {
  const file = recordFile(record.module);
  try {
    // Not one recursive mkdir: on a read-only file system Node's reports ENOENT for it (measured, Node 20).
    await mkdir(stateDir(), { recursive: true });
    await mkdir(join(stateDir(), 'applied')).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  } catch (err) {
    await rm(`${file}.tmp`, { force: true }).catch(() => undefined);
    throw new UserError(`cannot write the state record ${file} (HOTSPLICE_STATE_DIR): ${environmentError(err)?.message ?? String(err)}`);
  }
}

/** Remove the record; returns why it could not be removed (a warning for the caller: the kernel side is done). */
export async function removeRecord(module: string): Promise<string | undefined> {
  const file = recordFile(module);
  return rm(file, { force: true }).then(
    () => undefined,
    (err: unknown) => `could not remove the state record ${file}: ${systemCause(err) ?? String(err)}`,
  );
}

/** Files already reported in this process (status reads the records twice). */
const reported = new Set<string>();

/** Every readable record, by module; a bad one gets a warning line on stderr and is left out. */
export async function readRecords(): Promise<Map<string, UpdateRecord>> {
  const dir = join(stateDir(), 'applied');
  const records = new Map<string, UpdateRecord>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    const problem = await readFile(file, 'utf8').then(
      (text) => recordProblem(text, name.slice(0, -'.json'.length), (r) => records.set(r.module, r)),
      (err: unknown) => systemCause(err) ?? String(err),
    );
    if (problem && !reported.has(file)) {
      reported.add(file);
      process.stderr.write(`hotsplice: warning: ${file}: ${problem}; ignored (livepatch's sysfs still shows what is loaded)\n`);
    }
  }
  return records;
}

/** What is wrong with a record's text, or undefined after handing the good record to `keep`. */
function recordProblem(text: string, module: string, keep: (r: UpdateRecord) => void): string | undefined {
  let r: Partial<Record<keyof UpdateRecord, unknown>>;
  try {
    r = JSON.parse(text) as typeof r;
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'not a JSON object';
  if (r.module !== module) return `names module ${JSON.stringify(r.module)}, not ${module}`;
  for (const key of ['id', 'since', 'package'] as const) if (typeof r[key] !== 'string') return `${key} is not a string`;
  if (typeof r.replace !== 'boolean') return 'replace is not a boolean';
  if (typeof r.kernel !== 'object' || r.kernel === null) return 'kernel is not an object';
  const objects = r.objects;
  const valid = Array.isArray(objects) && objects.every((o) => typeof o?.objname === 'string' && Array.isArray(o.functions) && o.functions.every((f: { name?: unknown }) => typeof f?.name === 'string'));
  if (!valid) return 'objects is not a list of klp objects';
  if (r.level !== undefined && !(Number.isSafeInteger(r.level) && (r.level as number) >= 1)) return 'level is not a whole number from 1 up';
  if (r.cves !== undefined && !(Array.isArray(r.cves) && r.cves.every((c) => typeof c === 'string'))) return 'cves is not a list of strings';
  if (r.effectiveVersion !== undefined && typeof r.effectiveVersion !== 'string') return 'effectiveVersion is not a string';
  keep(r as UpdateRecord);
  return undefined;
}
