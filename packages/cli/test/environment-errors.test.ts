// The machine's state (a full disk, a directory where a file belongs) is a user's problem, reported in one line with
// exit 1; only bugs are internal errors (exit 70).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = join(__dirname, '..', 'bin', 'hotsplice.js');
const scratch = mkdtempSync(join(tmpdir(), 'hs-env-'));
const hotsplice = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('hotsplice diff --out where it cannot write', () => {
  beforeAll(() => {
    // Two objects with one changed function, built like kernel code (fentry calls) so the differ accepts them.
    writeFileSync(join(scratch, 'pre.c'), 'int f(int x) { return x + 1; }\n');
    writeFileSync(join(scratch, 'post.c'), 'int f(int x) { return x + 2; }\n');
    for (const side of ['pre', 'post']) {
      execFileSync('gcc', ['-O2', '-pg', '-mfentry', '-ffunction-sections', '-fdata-sections', '-c', join(scratch, `${side}.c`), '-o', join(scratch, `${side}.o`)]);
    }
  });
  const diff = (out: string) => hotsplice('diff', join(scratch, 'pre.o'), join(scratch, 'post.o'), '--parent', join(scratch, 'pre.o'), '--out', out);

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
    expect(r.stdout).toBe(`${join(scratch, 'post.o')}: changed f; new - -> ${join(scratch, 'new.o')}\n`);
  });
});
