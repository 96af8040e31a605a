import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors';
import { HOST_PROGRAMS, chooseHostTools, describeHostTools, installHostToolsFromSource, readProvenance, sha256 } from '../src/host-tools';

// apt-cache madison linux-kbuild-6.1 on bookworm (measured 2026-12-01): only these two versions.
const OFFERED = ['6.1.192-3', '6.1.176-1'];

describe('which kbuild host tools an ABI uses', () => {
  it('takes Debian’s package when apt offers exactly the ABI’s version', () => {
    expect(chooseHostTools('6.1.192-3', 'linux-kbuild-6.1', OFFERED)).toEqual({ from: 'package', package: 'linux-kbuild-6.1', version: '6.1.192-3' });
    expect(chooseHostTools('6.1.176-1', 'linux-kbuild-6.1', OFFERED)).toEqual({ from: 'package', package: 'linux-kbuild-6.1', version: '6.1.176-1' });
  });

  it('builds from the ABI’s own source for -56, -55, -54 (same upstream 6.1.192 is not the same version)', () => {
    for (const version of ['6.1.192-2', '6.1.192-1', '6.1.190-1']) {
      expect(chooseHostTools(version, 'linux-kbuild-6.1', OFFERED)).toEqual({ from: 'source', version });
    }
    expect(chooseHostTools('6.1.192-3', 'linux-kbuild-6.1', [])).toEqual({ from: 'source', version: '6.1.192-3' });
  });

  it('says which it used in one line', () => {
    expect(describeHostTools(chooseHostTools('6.1.192-3', 'linux-kbuild-6.1', OFFERED))).toBe('kbuild package linux-kbuild-6.1 6.1.192-3');
    expect(describeHostTools(chooseHostTools('6.1.192-2', 'linux-kbuild-6.1', OFFERED))).toBe('built from source 6.1.192-2');
  });
});

/** A source tree as `make prepare modules_prepare` leaves it: programs, their sources and objects, Makefiles. */
async function fakePreparedTree(): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), 'hs-src-'));
  const files: Record<string, [string, number]> = {
    'scripts/Makefile.build': ['# build rules\n', 0o644],
    'scripts/Kbuild.include': ['# include\n', 0o644],
    'scripts/pahole-flags.sh': ['#!/bin/sh\n', 0o755],
    'scripts/basic/fixdep.c': ['int main(){}\n', 0o644],
    'scripts/basic/.fixdep.cmd': ['cmd_fixdep := gcc\n', 0o644],
    'scripts/mod/modpost.o': ['ELF-object', 0o644],
    'scripts/mod/elfconfig.h': ['#define KERNEL_ELFCLASS\n', 0o644],
  };
  for (const program of HOST_PROGRAMS) files[program] = [`ELF ${program}`, 0o755];
  for (const [path, [text, mode]] of Object.entries(files)) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), text);
    await chmod(join(tree, path), mode);
  }
  return tree;
}

describe('kbuild directory built from a prepared source tree', () => {
  it('copies Makefiles, scripts and the four programs (modes kept), not sources or objects, and records sha256s', async () => {
    const tree = await fakePreparedTree();
    const dest = await mkdtemp(join(tmpdir(), 'hs-kbuild-'));
    const provenance = await installHostToolsFromSource(tree, dest, '6.1.192-2');
    const files = (await readdir(dest, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(files.map((e) => join(e.parentPath, e.name).slice(dest.length + 1)).sort()).toEqual([
      'hotsplice-host-tools.json',
      'scripts/Kbuild.include',
      'scripts/Makefile.build',
      'scripts/basic/fixdep',
      'scripts/genksyms/genksyms',
      'scripts/mod/modpost',
      'scripts/pahole-flags.sh',
      'tools/objtool/objtool',
    ]);
    expect((await stat(join(dest, 'tools/objtool/objtool'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, 'scripts/Makefile.build'))).mode & 0o777).toBe(0o644);
    expect(provenance.hostTools).toBe('built from source 6.1.192-2');
    expect(provenance.sha256['tools/objtool/objtool']).toBe(sha256(Buffer.from('ELF tools/objtool/objtool')));
    expect(await readProvenance(dest)).toEqual(provenance);
    expect(JSON.parse(await readFile(join(dest, 'hotsplice-host-tools.json'), 'utf8')).sha256['scripts/mod/modpost']).toBe(
      sha256(Buffer.from('ELF scripts/mod/modpost')),
    );
  });

  it('refuses, naming the program, when prepare did not build objtool', async () => {
    const tree = await fakePreparedTree();
    await rm(join(tree, 'tools/objtool/objtool'));
    const install = installHostToolsFromSource(tree, await mkdtemp(join(tmpdir(), 'hs-kbuild-')), '6.1.192-2');
    await expect(install).rejects.toThrow(UserError);
    await expect(install).rejects.toThrow(`${join(tree, 'tools/objtool/objtool')} is missing after make prepare modules_prepare`);
  });

  it('reads no provenance from Debian’s package directory', async () => {
    expect(await readProvenance(await mkdtemp(join(tmpdir(), 'hs-pkg-')))).toBeUndefined();
  });
});
