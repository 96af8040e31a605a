// The machine's state (a full disk, a directory where a file belongs) is a user's problem, reported in one line with
// exit 1; only bugs are internal errors (exit 70).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gccObject, linkExecutable } from '../../objdiff/test/helpers/gcc-objects';

const BIN = join(__dirname, '..', 'bin', 'hotsplice.js');
const scratch = mkdtempSync(join(tmpdir(), 'hs-env-'));
const hotsplice = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('hotsplice diff --out where it cannot write', () => {
  beforeAll(() => {
    // One source before and after a change, built like kernel code (fentry calls) so the differ accepts them,
    // and an executable as the parent (the differ takes vmlinux, ET_EXEC, or a module).
    gccObject(join(scratch, 'pre'), 'f', 'int f(int x) { return x + 1; }\n');
    gccObject(join(scratch, 'post'), 'f', 'int f(int x) { return x + 2; }\n');
    linkExecutable(join(scratch, 'pre', 'f.o'), join(scratch, 'parent'));
  });
  const diff = (out: string) =>
    hotsplice('diff', join(scratch, 'pre', 'f.o'), join(scratch, 'post', 'f.o'), '--parent', join(scratch, 'parent'), '--out', out);

  it('--out naming a directory: exit 1, one line naming it', () => {
    const dir = join(scratch, 'out-dir');
    mkdirSync(dir);
    const r = diff(dir);
    expect([r.status, r.stderr]).toEqual([1, `hotsplice: ${dir}: is a directory\n`]);
  });

  it('--out on a full disk (/dev/full): exit 1, one line naming the file', () => {
    const r = diff('/dev/full');
    expect([r.status, r.stderr]).toEqual([1, 'hotsplice: /dev/full: no space left on device\n']);
  });

  it('still writes the output where it can', () => {
    const r = diff(join(scratch, 'new.o'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`${join(scratch, 'post', 'f.o')}: changed f; new - -> ${join(scratch, 'new.o')}\n`);
  });
});
