// A fix adds a global helper in one file and calls it from another (design.md §11): the update module must link
// the call to its own copy of the helper; the running kernel has no such symbol.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../../../link/test/helpers/toolchain';
import { create, scratchWorkspace } from './workspace';

const pristineTree = inject('pristineTree');
const HELPER = 'hotsplice_meminfo_marker';

/** A hunk inserting `added` after the line `after` of a tree file (context: that line and the next); `shift`: lines earlier hunks added. */
function insertAfter(file: string, after: string, added: string[], shift = 0): string {
  const lines = readFileSync(join(pristineTree, file), 'utf8').split('\n');
  const at = lines.indexOf(after);
  expect(at, `${file}: ${after}`).toBeGreaterThanOrEqual(0);
  const body = [` ${lines[at]}`, ...added.map((l) => `+${l}`), ` ${lines[at + 1]}`];
  return `--- a/${file}\n+++ b/${file}\n@@ -${at + 1},2 +${at + 1 + shift},${2 + added.length} @@\n${body.join('\n')}\n`;
}

describe('a new global helper in fs/proc/meminfo.c called from fs/proc/version.c', () => {
  let ws: string;
  let r: ReturnType<typeof create>;
  let ko: string;
  beforeAll(() => {
    ws = scratchWorkspace();
    const patch =
      insertAfter('fs/proc/meminfo.c', '#include "internal.h"', ['', `unsigned long ${HELPER}(void)`, '{', '\treturn totalram_pages();', '}']) +
      insertAfter('fs/proc/version.c', '#include <linux/utsname.h>', [`unsigned long ${HELPER}(void);`]) +
      insertAfter('fs/proc/version.c', '\t\tutsname()->version);', [`\tseq_printf(m, "hotsplice: %lu\\n", ${HELPER}());`], 1).split('\n').slice(2).join('\n');
    writeFileSync(join(ws, 'helper.patch'), patch);
    r = create(ws, '--patch', join(ws, 'helper.patch'), '--id', 'cross_helper');
    const unpacked = mkdtempSync(join(tmpdir(), 'hs-pkg-'));
    if (r.code === 0) {
      execFileSync('tar', ['-xzf', join(ws, 'dist', 'hotpatch', 'cross_helper', 'hotsplice-cross_helper.tar.gz'), '-C', unpacked]);
      ko = join(unpacked, readdirSync(unpacked).find((f) => f.endsWith('.ko'))!);
    }
  }, 900_000);

  it('builds, modpost quiet, and the call binds to the module\'s own helper', () => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/undefined!|WARNING: modpost/);
    const symbols = run('readelf', ['-Ws', ko]);
    const helper = symbols.split('\n').filter((l) => l.trim().endsWith(` ${HELPER}`));
    expect(helper.length, symbols).toBe(1);
    expect(helper[0]).toMatch(/FUNC\s+GLOBAL\s+DEFAULT\s+\d+\s/); // defined in a section of the module
    expect(symbols).not.toContain(`.klp.sym.vmlinux.${HELPER}`);
    // version_proc_show's copy calls it through an ordinary relocation, which the module loader resolves.
    const relocs = run('readelf', ['-Wr', ko]);
    const sections = relocs.split(/\n(?=Relocation section)/);
    const calls = sections.filter((s) => s.includes(` ${HELPER} `) || s.includes(` ${HELPER} +`));
    const call = calls.find((s) => s.startsWith("Relocation section '.rela.text.version_proc_show'"));
    expect(call?.split('\n').filter((l) => l.includes(HELPER)).map((l) => l.trim().split(/\s+/).slice(2, 3).concat(l.trim().split(/\s+/).slice(4)).join(' '))).toEqual([
      `R_X86_64_PLT32 ${HELPER} - 4`,
    ]);
    // …and the helper's own table entries (mcount, ORC, return sites) came along with it.
    expect(calls.length).toBeGreaterThan(1);
  });
});
