// Debian version order (deb-version(7), dpkg's verrevcmp): epoch, then upstream and revision compared as runs of
// non-digits (letters before non-letters, `~` before everything, even the end) and runs of digits by value.
import { version as unameVersion } from 'node:os';

export function compareDebianVersions(a: string, b: string): number {
  const [ea, ua, ra] = parts(a);
  const [eb, ub, rb] = parts(b);
  return Math.sign(ea - eb) || verrevcmp(ua, ub) || verrevcmp(ra, rb);
}

function parts(v: string): [number, string, string] {
  const colon = v.indexOf(':');
  const epoch = colon > 0 ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash < 0 ? [epoch, rest, ''] : [epoch, rest.slice(0, dash), rest.slice(dash + 1)];
}

/** A character's weight in the non-digit runs. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[0-9]/.test(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let first = 0;
    while ((i < a.length && !/[0-9]/.test(a[i]!)) || (j < b.length && !/[0-9]/.test(b[j]!))) {
      const d = order(a[i]) - order(b[j]);
      if (d) return Math.sign(d);
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /[0-9]/.test(a[i]!) && j < b.length && /[0-9]/.test(b[j]!)) {
      if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /[0-9]/.test(a[i]!)) return 1;
    if (j < b.length && /[0-9]/.test(b[j]!)) return -1;
    if (first) return Math.sign(first);
  }
  return 0;
}

/**
 * The running kernel's Debian package version, from `uname -v` ("#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3
 * (2026-…)": Debian's kernel build puts it there), or undefined for a kernel that does not say.
 */
export function runningDebianVersion(uname = unameVersion()): string | undefined {
  return /\bDebian (\d[\w.+~:-]*)/.exec(uname)?.[1];
}
