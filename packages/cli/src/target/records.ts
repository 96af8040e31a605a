// What apply remembers about each update it loaded: when, from which package, with what manifest. sysfs is the
// truth about what is loaded; these records add what sysfs cannot tell (the id, the time, the package).
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '@hotsplice/link';

export interface UpdateRecord {
  id: string;
  module: string;
  /** ISO time the update finished applying. */
  since: string;
  package: string;
  replace: boolean;
  kernel: Manifest['kernel'];
  objects: Manifest['objects'];
}

export function stateDir(): string {
  return process.env.HOTSPLICE_STATE_DIR ?? '/var/lib/hotsplice';
}

export async function writeRecord(record: UpdateRecord): Promise<void> {
  const dir = join(stateDir(), 'applied');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${record.module}.json`);
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

export async function removeRecord(module: string): Promise<void> {
  await rm(join(stateDir(), 'applied', `${module}.json`), { force: true });
}

export async function readRecords(): Promise<Map<string, UpdateRecord>> {
  const dir = join(stateDir(), 'applied');
  const records = new Map<string, UpdateRecord>();
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.endsWith('.json')) continue;
    const record = await readFile(join(dir, name), 'utf8').then((t) => JSON.parse(t) as UpdateRecord, () => undefined);
    if (record?.module) records.set(record.module, record);
  }
  return records;
}
