// A compiler the user chooses instead of the kernel's (create --compiler): the machine's real gcc-12, once under its
// own name (the kernel's CONFIG_CC_VERSION_TEXT line) and once through a link named otherwise, whose --version line
// differs (gcc names itself after argv[0]), as /usr/bin/gcc's does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkChosenCompiler, keepConfigMakeflag } from '../src/chosen-compiler';

const gcc12 = execFileSync('sh', ['-c', 'command -v gcc-12'], { encoding: 'utf8' }).trim();
const line = (cc: string) => execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n', 1)[0]!;
const kernel = { abi: '6.1.0-57-amd64', suite: 'bookworm', compilerVersion: line(gcc12) };
const dir = mkdtempSync(join(tmpdir(), 'hs-cc-'));
const renamed = join(dir, 'hs-gcc');
symlinkSync(execFileSync('realpath', [gcc12], { encoding: 'utf8' }).trim(), renamed);

describe('a chosen compiler', () => {
  it('is used as it is when it prints the kernel\'s version line', async () => {
    expect(await checkChosenCompiler(kernel, { path: gcc12 })).toEqual({ path: gcc12, versionText: kernel.compilerVersion, kernelVersionText: kernel.compilerVersion, mismatch: false });
  });

  it('is refused when its version line is another, in one line naming both', async () => {
    const other = line(renamed);
    expect(other).toMatch(/^hs-gcc \(Debian 12\./);
    await expect(checkChosenCompiler(kernel, { path: renamed })).rejects.toThrow(
      `--compiler ${renamed} is "${other}", but 6.1.0-57-amd64 was built by "${kernel.compilerVersion}"; --force-compiler builds with it anyway (recorded in the package)`,
    );
  });

  it('is taken when forced, and says the lines differ', async () => {
    expect(await checkChosenCompiler(kernel, { path: renamed, force: true })).toMatchObject({ versionText: line(renamed), mismatch: true });
  });

  it('is refused for a kernel built in a build root, and when it does not run', async () => {
    await expect(checkChosenCompiler({ ...kernel, buildRoot: '/cache/buildroot/trixie-1', suite: 'trixie' }, { path: gcc12 })).rejects.toThrow(
      /^--compiler .*gcc-12: 6\.1\.0-57-amd64 is built in its trixie build root \(its objtool, modpost and fixdep are that release's programs\), where a compiler of this machine does not run$/,
    );
    await expect(checkChosenCompiler(kernel, { path: join(dir, 'missing-cc') })).rejects.toThrow(`--compiler ${join(dir, 'missing-cc')}: cannot run it (`);
  });

  it('keeps kbuild\'s CC_VERSION_TEXT through MAKEFLAGS, as GNU make reads command-line variables there', () => {
    const text = 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0';
    writeFileSync(join(dir, 'Makefile'), 'CC_VERSION_TEXT = $(shell echo other)\nall:\n\t@echo "[$(CC_VERSION_TEXT)]"\n\t@$(MAKE) -s sub\nsub:\n\t@echo "[$(CC_VERSION_TEXT)]"\n');
    const out = execFileSync('make', ['-s', '-C', dir], { encoding: 'utf8', env: { ...process.env, MAKEFLAGS: keepConfigMakeflag(text) } });
    expect(out).toBe(`[${text}]\n[${text}]\n`);
  });
});
