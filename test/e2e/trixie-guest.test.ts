// trixie's 6.12 end to end, as a user runs it: hotpatch.json names `newest-trixie`, and `nx run kernel:try` builds
// the example update (gcc-14 in the trixie build root, objtool at link time, the -dbg vmlinux check) and applies
// and undoes it in a guest booted with that kernel (one boot). The apply-time run-pre reads the live 6.12 text:
// sealed endbr, return thunks, call sites.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type NxRun, REPO, nx, scratchWorkspace } from '../../packages/nx-plugin/test/kernel/workspace';

const trixie = inject('trixie');
const MARKER = 'hotsplice: livepatched by proc_version_marker';

describe(`the example update on trixie's ${trixie.abi}`, () => {
  let run: NxRun;
  let console: string[];

  beforeAll(() => {
    const ws = scratchWorkspace();
    const config = { id: 'proc_version_marker', kernel: { abi: 'newest-trixie' }, patches: ['examples/proc-version-marker.patch'], check: 'cat /proc/version' };
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify(config));
    writeFileSync(join(ws, 'examples', 'proc-version-marker.patch'), readFileSync(join(REPO, 'examples', 'proc-version-marker.patch')));
    run = nx(ws, ['run', 'kernel:try']);
    console = run.output.split('\n').map((line) => line.replace(/^kernel:\s*/, '').trim());
  });

  it('builds the package for the trixie ABI and boots that kernel', () => {
    expect(run.code, run.output.slice(-4000)).toBe(0);
    expect(console).toContain(`hotsplice try: booting Linux ${trixie.abi} under QEMU with hotsplice-proc_version_marker.tar.gz`);
    expect(run.output).toMatch(/verify-pre: fs\/proc\/version\.o \[vmlinux\]: 1\/1 function\(s\) of the old code match vmlinux/);
  });

  it('applies it (run-pre matched against the live 6.12 text), shows the marker, undoes it', () => {
    const at = (heading: string) => console.indexOf(heading);
    const section = (from: string, to: string) => console.slice(at(from), at(to));
    expect(section('== before', '== hotsplice apply hotsplice-proc_version_marker.tar.gz')).not.toContain(MARKER);
    expect(console.some((l) => /^applied proc_version_marker in \d+ ms: 1 function\(s\) patched$/.test(l))).toBe(true);
    expect(console.some((l) => /^run-pre: 1 function\(s\) matched in \d+ ms$/.test(l))).toBe(true);
    expect(section('== after', '== hotsplice view')).toContain(MARKER);
    expect(console.some((l) => /^undone proc_version_marker in \d+ ms; module unloaded$/.test(l))).toBe(true);
    expect(console.slice(at('== undone'))).not.toContain(MARKER);
    expect(console.slice(at('== undone')).some((l) => l.startsWith(`Linux version ${trixie.abi} `))).toBe(true);
  });
});
