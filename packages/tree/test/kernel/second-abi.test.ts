// An older ABI whose linux-kbuild-6.1 version apt no longer offers (-56 = 6.1.192-2; apt has kbuild 6.1.192-3 and
// 6.1.176-1 only): its host tools are its own, an external module builds against its headers tree with its CRCs,
// and its source tree compiles byte-identically with kbuild's recorded command.
// Runs when that ABI is already prepared, or when HOTSPLICE_SECOND_ABI names one to prepare (cold ~90 s, ~1 GB).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, realpath, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HOST_PROGRAMS,
  type KernelPaths,
  buildExternalModule,
  cacheRoot,
  kbuildVariables,
  kernelPaths,
  prepareKernel,
  preparedKernel,
  readProvenance,
  sha256,
  sourceKbuildDir,
} from '@hotsplice/kernel';
import { compileObjects, withTreeLock } from '@hotsplice/tree';
import { recordedCommand } from '../../src/fresh';

const DEFAULT_SECOND_ABI = '6.1.0-56-amd64';
const requested = process.env.HOTSPLICE_SECOND_ABI;
const SMOKE_MODULE = join(__dirname, '..', '..', '..', '..', 'kernel-module', 'smoke');
const OBJECTS = ['fs/proc/meminfo.o', 'fs/binfmt_misc.o'];
const newest = inject('kernel');

const run = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8' });

describe(`a second ABI (${requested ?? DEFAULT_SECOND_ABI}) with kbuild built from its own source`, () => {
  // Not prepared and not asked for: each test reports itself skipped (a cold prepare downloads ~1 GB).
  let second: KernelPaths | undefined;
  beforeAll(async () => {
    second = requested ? await prepareKernel({ abi: requested, quiet: true }) : await preparedKernel(DEFAULT_SECOND_ABI);
  });

  it('uses host tools built from that ABI’s source tree, never the kbuild package of another version', async (ctx) => {
    if (!second) return ctx.skip();
    expect(second.hostTools).toBe(`built from source ${second.version}`);
    const kbuild = sourceKbuildDir(kernelPaths(cacheRoot(), second).dir);
    const provenance = await readProvenance(kbuild);
    expect(provenance?.hostTools).toBe(second.hostTools);
    for (const program of HOST_PROGRAMS) {
      // The headers tree's scripts/ and tools/ lead to our kbuild directory, whose programs are the source tree's.
      expect(await realpath(join(second.headersTree, program)), program).toBe(join(kbuild, program));
      const bytes = await readFile(join(kbuild, program));
      expect(bytes.equals(await readFile(join(second.sourceTree, program))), program).toBe(true);
      expect(provenance?.sha256[program], program).toBe(sha256(bytes));
    }
    if (newest.hostTools.startsWith('kbuild package')) {
      // Debian's modpost is a wrapper exec'ing modpost.real-lsb-64; ours is the program itself. objtool differs too.
      for (const program of ['scripts/mod/modpost', 'tools/objtool/objtool']) {
        const packaged = await readFile(join(newest.headersTree, program));
        expect(sha256(packaged), program).not.toBe(provenance?.sha256[program]);
      }
    }
  });

  it('builds the smoke livepatch against its headers tree: its vermagic, its objtool, its Module.symvers CRCs', async (ctx) => {
    if (!second) return ctx.skip();
    const buildDir = join(await mkdtemp(join(tmpdir(), 'hs-second-abi-')), 'build');
    const [ko] = await buildExternalModule({ sourceDir: SMOKE_MODULE, buildDir, kernel: second });
    expect(ko).toBe(join(buildDir, 'hotsplice_smoke.ko'));
    expect(run('modinfo', ['-F', 'vermagic', ko!]).trim()).toBe(`${second.abi} SMP preempt mod_unload modversions`);
    // kbuild runs in the headers tree: objtool is ./tools/objtool/objtool there, i.e. the source-built one.
    const cmd = await readFile(join(buildDir, '.hotsplice_smoke.o.cmd'), 'utf8');
    expect(cmd).toContain(`./tools/objtool/objtool --hacks=jump_label`);
    expect(cmd).toContain(`--module ${join(buildDir, 'hotsplice_smoke.o')}`);
    const symvers = new Map(
      (await readFile(second.symvers, 'utf8')).split('\n').map((line) => line.split('\t')).map(([crc, name]) => [name, crc]),
    );
    const versions = run('modprobe', ['--dump-modversions', ko!]).trim().split('\n').map((line) => line.split('\t'));
    expect(versions.map(([, name]) => name).sort()).toEqual(
      ['__fentry__', '__x86_return_thunk', 'klp_enable_patch', 'module_layout', 'seq_puts'].sort(),
    );
    for (const [crc, name] of versions) expect(Number(crc), name).toBe(Number(symvers.get(name!)));
  });

  it('compiles objects in its source tree with kbuild’s recorded command to the same bytes as make', async (ctx) => {
    if (!second) return ctx.skip();
    const kernel = second;
    await withTreeLock(kernel.sourceTree, async () => {
      const tree = kernel.sourceTree;
      const make = () => execFileSync('make', ['-C', tree, '-s', ...kbuildVariables(kernel), ...OBJECTS]);
      const touch = () => Promise.all(OBJECTS.map((o) => utimes(join(tree, o.replace(/\.o$/, '.c')), new Date(), new Date())));
      await touch();
      make();
      const byMake = await Promise.all(OBJECTS.map((o) => readFile(join(tree, o))));
      for (const o of OBJECTS) {
        const command = await recordedCommand(tree, o, kernel.compiler);
        expect(command, o).toContain(`-o ${o} ${o.replace(/\.o$/, '.c')}`);
      }
      // The tree's own objtool (the one copied into kbuild/) ran on each object.
      const objCmd = await readFile(join(tree, 'fs/proc/.meminfo.o.cmd'), 'utf8');
      expect(objCmd).toContain('./tools/objtool/objtool');
      await touch();
      await compileObjects(kernel, OBJECTS);
      const direct = await Promise.all(OBJECTS.map((o) => readFile(join(tree, o))));
      expect(direct.map((b) => b.length)).toEqual(byMake.map((b) => b.length));
      OBJECTS.forEach((o, i) => expect(direct[i]!.equals(byMake[i]!), o).toBe(true));
    });
  });
});
