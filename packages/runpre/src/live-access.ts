import { readFileSync } from 'node:fs';

// The ways reading the live kernel fails, each named in one line (design.md §8b, measured in the guest).

export interface LivePaths {
  kcore: string;
  kallsyms: string;
  /** sysctl kernel.kptr_restrict. */
  kptrRestrict: string;
  /** The lockdown LSM's mode list, the active one in brackets (security/lockdown/lockdown.c). */
  lockdown: string;
}

export const DEFAULT_LIVE_PATHS: LivePaths = {
  kcore: '/proc/kcore',
  kallsyms: '/proc/kallsyms',
  kptrRestrict: '/proc/sys/kernel/kptr_restrict',
  lockdown: '/sys/kernel/security/lockdown',
};

function readSetting(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The active lockdown mode ("none", "integrity", "confidentiality"), or undefined when the file is absent. */
export function lockdownMode(paths: Pick<LivePaths, 'lockdown'>): string | undefined {
  return /\[(\w+)\]/.exec(readSetting(paths.lockdown) ?? '')?.[1];
}

/**
 * Why kallsyms lists only zero addresses: kallsyms_show_value() (kernel/kallsyms.c) hides them from a reader
 * without CAP_SYSLOG, and from everyone with kptr_restrict=2.
 */
export function zeroAddressesReason(paths: LivePaths, uid: number | undefined): string {
  const restrict = readSetting(paths.kptrRestrict);
  if (restrict === '2') return `${paths.kallsyms} shows only zero addresses: kernel.kptr_restrict=2 hides them even from root (set it to 1 or 0: sysctl kernel.kptr_restrict=1)`;
  if (uid !== 0) return `${paths.kallsyms} shows only zero addresses: reading the live kernel needs root (running as uid ${uid ?? '?'})`;
  return `${paths.kallsyms} shows only zero addresses although running as root (kernel.kptr_restrict=${restrict ?? '?'}; is CAP_SYSLOG dropped?)`;
}

/** Why /proc/kcore did not open: EACCES for non-root (mode 0400), EPERM from lockdown confidentiality (fs/proc/kcore.c open_kcore). */
export function kcoreOpenReason(paths: LivePaths, code: string | undefined, uid: number | undefined): string {
  if (code === 'ENOENT') return `${paths.kcore} does not exist: the kernel is built without CONFIG_PROC_KCORE`;
  if (code === 'EACCES' || (code === 'EPERM' && uid !== 0)) return `${paths.kcore}: permission denied: reading the live kernel needs root (running as uid ${uid ?? '?'})`;
  if (code === 'EPERM') {
    const mode = lockdownMode(paths);
    if (mode === 'confidentiality') return `${paths.kcore}: kernel lockdown is in confidentiality mode, which forbids reading kernel memory (boot with lockdown=integrity or none)`;
    return `${paths.kcore}: operation not permitted (lockdown mode: ${mode ?? 'unknown'}; CAP_SYS_RAWIO missing?)`;
  }
  return `${paths.kcore}: cannot open it (${code ?? 'unknown error'})`;
}
