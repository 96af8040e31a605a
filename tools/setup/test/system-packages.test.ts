// Each step installs only its own Debian packages, when it first runs (tools/setup/packages.sh).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SETUP = join(__dirname, '..');

/** `missing_packages STEPS…` of packages.sh next to `list`: the packages it would install, and every one it probed. */
function probe(dir: string, ...steps: string[]): { missing: string[]; probed: string[] } {
  const out = execFileSync('bash', ['-c', `source "${dir}/packages.sh"; missing_packages "$@"; echo "\${MISSING[*]}"; printf '%s' "$PROBED"`, 'probe', ...steps], { encoding: 'utf8' });
  const [missing, ...probed] = out.split('\n');
  return { missing: missing.split(' ').filter(Boolean), probed: probed.filter(Boolean) };
}

describe('system packages per step', () => {
  it('finds what a step lacks by its probe (a command on PATH or a path), and only for the steps asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-setup-'));
    copyFileSync(join(SETUP, 'packages.sh'), join(dir, 'packages.sh'));
    writeFileSync(
      join(dir, 'system-packages.txt'),
      ['# comment', 'here-a /bin/sh build', 'gone-b /nonexistent/b build', '', 'gone-c no-such-command-hs guest', 'here-d sh guest', 'gone-e /nonexistent/e cache-server', ''].join('\n'),
    );
    expect(probe(dir, 'build')).toEqual({ missing: ['gone-b'], probed: ['here-a ok', 'gone-b missing'] });
    expect(probe(dir, 'guest').missing).toEqual(['gone-c']);
    expect(probe(dir, 'guest', 'cache-server').missing).toEqual(['gone-c', 'gone-e']);
    expect(probe(dir).missing).toEqual(['gone-b', 'gone-c', 'gone-e']);
  });

  it("the main job's step (build) brings no QEMU, busybox, nginx or distcc; each comes with its own step", () => {
    const names = (...steps: string[]) => probe(SETUP, ...steps).probed.map((line) => line.split(' ')[0]);
    const build = names('build');
    expect(build).toContain('gcc-12');
    expect(build).toContain('libelf-dev');
    for (const pkg of ['qemu-system-x86', 'busybox-static', 'nginx', 'distcc']) expect(build).not.toContain(pkg);
    expect(names('guest')).toEqual(['qemu-system-x86', 'busybox-static', 'e2fsprogs']);
    expect(names('cache-server')).toEqual(['nginx']);
    expect(names('distcc')).toEqual(['distcc']);
    expect(names('deliver')).toEqual(['apt-utils', 'gpg', 'lintian']);
    expect(names().length).toBe(build.length + 8);
  });
});
