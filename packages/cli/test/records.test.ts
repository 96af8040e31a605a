// apply's state records: a bad one is reported in one line and ignored (sysfs is the truth), and a state directory
// that cannot take a record is refused in one line naming the file.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { moduleOf } from '../src/commands/undo';
import { type UpdateRecord, readRecords, removeRecord, writeRecord } from '../src/target/records';

const RECORD: UpdateRecord = {
  id: 'fix-1',
  module: 'fix_1',
  since: '2026-12-01T00:00:00.000Z',
  package: 'hotsplice-fix-1.tar.gz',
  replace: false,
  kernel: { abi: '6.1.0-57-amd64', version: '6.1.192-3', vmlinuxBuildId: 'ab' },
  objects: [{ objname: 'vmlinux', functions: [{ name: 'f', sympos: 0, object: 'a.o', newSymbol: 'n' }] }],
};

let state: string;
let stderr: string[];

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'hs-state-'));
  vi.stubEnv('HOTSPLICE_STATE_DIR', state);
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('readRecords', () => {
  it('reads back what writeRecord wrote', async () => {
    await writeRecord(RECORD);
    expect(JSON.parse(readFileSync(join(state, 'applied', 'fix_1.json'), 'utf8'))).toEqual(RECORD);
    expect([...(await readRecords()).entries()]).toEqual([['fix_1', RECORD]]);
  });

  it('reports each bad record in one line and keeps the good ones', async () => {
    await writeRecord(RECORD);
    const applied = join(state, 'applied');
    writeFileSync(join(applied, 'cut.json'), '{"id": "cut", "module":');
    writeFileSync(join(applied, 'null.json'), 'null');
    writeFileSync(join(applied, 'other.json'), JSON.stringify({ ...RECORD, module: 'fix_2' }));
    writeFileSync(join(applied, 'fix_3.json'), JSON.stringify({ ...RECORD, module: 'fix_3', objects: null }));
    mkdirSync(join(applied, 'dir.json'));
    const records = await readRecords();
    expect([...records.keys()]).toEqual(['fix_1']);
    const tail = "; ignored (livepatch's sysfs still shows what is loaded)\n";
    expect(stderr.sort()).toEqual([
      `hotsplice: warning: ${join(applied, 'cut.json')}: not JSON${tail}`,
      `hotsplice: warning: ${join(applied, 'dir.json')}: is a directory${tail}`,
      `hotsplice: warning: ${join(applied, 'fix_3.json')}: objects is not a list of klp objects${tail}`,
      `hotsplice: warning: ${join(applied, 'null.json')}: not a JSON object${tail}`,
      `hotsplice: warning: ${join(applied, 'other.json')}: names module "fix_2", not other${tail}`,
    ]);
  });

  it('undo still finds the module of an update whose own record is corrupt', async () => {
    mkdirSync(join(state, 'applied'));
    writeFileSync(join(state, 'applied', 'fix_1.json'), '{"id": "fix-1", "mod');
    expect(await moduleOf('fix-1')).toBe('fix_1');
  });
});

describe('a state directory that cannot take a record', () => {
  it('is refused in one line naming the file and the cause', async () => {
    writeFileSync(join(state, 'plain-file'), '');
    vi.stubEnv('HOTSPLICE_STATE_DIR', join(state, 'plain-file'));
    await expect(writeRecord(RECORD)).rejects.toThrow(
      `cannot write the state record ${join(state, 'plain-file', 'applied', 'fix_1.json')} (HOTSPLICE_STATE_DIR): ${join(state, 'plain-file')}: already exists`,
    );
  });

  it('makes removing a record a warning for the caller, not a failure', async () => {
    mkdirSync(join(state, 'applied', 'fix_1.json', 'x'), { recursive: true });
    vi.stubEnv('HOTSPLICE_STATE_DIR', join(state, 'applied', 'fix_1.json', 'x', 'y'));
    expect(await removeRecord('fix_1')).toBeUndefined(); // nothing there: nothing to say
    writeFileSync(join(state, 'file'), '');
    vi.stubEnv('HOTSPLICE_STATE_DIR', join(state, 'file'));
    expect(await removeRecord('fix_1')).toBe(`could not remove the state record ${join(state, 'file', 'applied', 'fix_1.json')}: a part of the path is not a directory`);
  });
});
