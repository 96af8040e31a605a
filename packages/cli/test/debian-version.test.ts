// Debian version order (dpkg --compare-versions is the oracle) and the running kernel's version from uname -v.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareDebianVersions, runningDebianVersion } from '../src/target/debian-version';

const PAIRS: Array<[string, string]> = [
  ['6.1.192-3', '6.1.192-2'],
  ['6.1.192-3', '6.1.192-10'],
  ['6.1.192-3', '6.1.190-1'],
  ['6.12.118-1', '6.1.192-3'],
  ['6.1.192-3~bpo12+1', '6.1.192-3'],
  ['6.1.192-3+deb12u1', '6.1.192-3'],
  ['1:1.0-1', '2.0-1'],
  ['1.0a-1', '1.0-1'],
  ['1.0-1', '1.0'],
  ['2', '10'],
  ['6.1.192-3', '6.1.192-3'],
];

function dpkgSays(a: string, b: string): number {
  const is = (op: string) => {
    try {
      execFileSync('dpkg', ['--compare-versions', a, op, b]);
      return true;
    } catch {
      return false;
    }
  };
  return is('lt') ? -1 : is('gt') ? 1 : 0;
}

describe('Debian version order', () => {
  it.each(PAIRS)('%s vs %s: as dpkg orders them', (a, b) => {
    expect(compareDebianVersions(a, b)).toBe(dpkgSays(a, b));
    expect(compareDebianVersions(b, a)).toBe(dpkgSays(b, a));
  });
});

describe('the running kernel’s Debian version', () => {
  it('is read from uname -v as Debian’s kernel build writes it', () => {
    expect(runningDebianVersion('#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-20)')).toBe('6.1.192-3');
    expect(runningDebianVersion('#1 SMP PREEMPT_DYNAMIC Debian 6.12.118-1 (2026-11-02)')).toBe('6.12.118-1');
    expect(runningDebianVersion('#1 SMP Tue Jan 1 00:00:00 UTC 2026')).toBeUndefined();
  });
});
