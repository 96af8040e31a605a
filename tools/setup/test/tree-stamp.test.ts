import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';

// tree-stamp.sh is the manifest's cache key over the kernel tree (packages/nx-plugin graph.ts): it must change
// with any file an object's kbuild record names, and only then.
const SCRIPT = join(__dirname, '..', 'tree-stamp.sh');

/** A kbuild record as scripts/basic/fixdep writes it (the layout of 6.1's fs/proc/.version.o.cmd). */
const RECORD = [
  'cmd_fs/proc/version.o := gcc-12 -c -o fs/proc/version.o fs/proc/version.c',
  '',
  'source_fs/proc/version.o := fs/proc/version.c',
  '',
  'deps_fs/proc/version.o := \\',
  '  include/linux/kconfig.h \\',
  '    $(wildcard include/config/CPU_BIG_ENDIAN) \\',
  '  fs/proc/internal.h \\',
  '',
  'fs/proc/version.o: $(deps_fs/proc/version.o)',
  '',
  '$(deps_fs/proc/version.o):',
  '',
].join('\n');

describe('tree-stamp.sh', () => {
  let root: string;
  let tree: string;
  const stamp = (...objects: string[]) => execFileSync('bash', [SCRIPT, 'key1', tree, '-', 'gcc-12', ...objects], { encoding: 'utf8' });
  const write = (path: string, text: string) => {
    mkdirSync(join(tree, path, '..'), { recursive: true });
    writeFileSync(join(tree, path), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hs-stamp-'));
    tree = join(root, 'linux-source-6.1');
    write('fs/proc/.version.o.cmd', RECORD);
    write('fs/proc/version.c', 'int v;\n');
    write('include/linux/kconfig.h', '#define K 1\n');
    write('fs/proc/internal.h', '#define I 1\n');
    return () => rmSync(root, { recursive: true, force: true });
  });

  it('names the key, the record, the source and each header the record lists, by content', () => {
    const lines = stamp('fs/proc/version.o').split('\n');
    expect(lines[0]).toBe('key1');
    expect(lines[1]).toMatch(/^compiler \/usr\/bin\/gcc-12 \d+ \d+\.\d{9}$/);
    expect(lines.filter((l) => /^[0-9a-f]{64} {2}/.test(l)).map((l) => l.slice(66))).toEqual([
      'fs/proc/.version.o.cmd',
      'fs/proc/internal.h',
      'fs/proc/version.c',
      'include/linux/kconfig.h',
    ]);
  });

  it('changes with a header’s content, not with its time; notes a missing record', () => {
    const before = stamp('fs/proc/version.o');
    utimesSync(join(tree, 'fs/proc/internal.h'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    expect(stamp('fs/proc/version.o')).toBe(before);
    write('fs/proc/internal.h', '#define I 2\n');
    expect(stamp('fs/proc/version.o')).not.toBe(before);
    expect(stamp('fs/proc/version.o', 'mm/memory.o')).toContain('no record mm/memory.o\n');
  });

  it('reads a file another run holds patched from the journal’s backup, as the manifest will restore it', () => {
    const pristine = stamp('fs/proc/version.o');
    // What packages/tree journal.ts leaves while a run holds the tree patched: the backup, then journal.json.
    const journal = join(root, '.hotsplice-journal');
    mkdirSync(join(journal, 'files/fs/proc'), { recursive: true });
    writeFileSync(join(journal, 'files/fs/proc/version.c'), 'int v;\n');
    writeFileSync(join(journal, 'journal.json'), JSON.stringify({ tree, files: [{ path: 'fs/proc/version.c', existed: true, mode: 0o644 }] }));
    write('fs/proc/version.c', 'int v = 1;\n');
    expect(stamp('fs/proc/version.o')).toBe(pristine);
    // A backup that differs from the tree's pristine file: that is what the tree will hold again.
    writeFileSync(join(journal, 'files/fs/proc/version.c'), 'int w;\n');
    expect(stamp('fs/proc/version.o')).not.toBe(pristine);
  });
});
