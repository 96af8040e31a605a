// Node's errno errors from the machine become one line naming the file; anything else stays an internal error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError, environmentError, naming } from '../src/errors';

const scratch = mkdtempSync(join(tmpdir(), 'hs-errors-'));
const caught = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe('environmentError', () => {
  it('names the file and the cause of real system errors, exit 1', async () => {
    const dir = join(scratch, 'a-dir');
    await mkdir(dir);
    const isDir = environmentError(await caught(writeFile(dir, 'x')));
    expect([isDir?.message, isDir?.exitCode]).toEqual([`${dir}: is a directory`, 1]);
    const missing = environmentError(await caught(readFile(join(scratch, 'none', 'file'))));
    expect(missing?.message).toBe(`${join(scratch, 'none', 'file')}: no such file or directory`);
    writeFileSync(join(scratch, 'plain'), '');
    const notDir = environmentError(await caught(mkdir(join(scratch, 'plain', 'sub'))));
    expect(notDir?.message).toBe(`${join(scratch, 'plain', 'sub')}: a part of the path is not a directory`);
  });

  it('a full disk: named when the caller says which file (fs.writeFile\'s write step does not)', async () => {
    const bare = await caught(writeFile('/dev/full', 'x'));
    expect(environmentError(bare)?.message).toBe('no space left on device (write)');
    const named = await caught(writeFile('/dev/full', 'x').catch(naming('/dev/full')));
    expect(environmentError(named)?.message).toBe('/dev/full: no space left on device');
  });

  it('leaves bugs alone: plain errors, UserErrors and path-less codes that may be a bug', () => {
    expect(environmentError(new TypeError("Cannot read properties of null (reading 'format')"))).toBeUndefined();
    expect(environmentError(new UserError('x'))).toBeUndefined();
    expect(environmentError(Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' }))).toBeUndefined();
    expect(environmentError(null)).toBeUndefined();
  });
});
