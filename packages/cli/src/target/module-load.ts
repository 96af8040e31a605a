// Loading and unloading the update's module with the system's own kmod tools, quoting the kernel's log lines
// when the kernel says no.
import { execa } from 'execa';
import { UserError } from '@hotsplice/kernel';
import { isSwitchReport } from './blockers';
import { kernelLogMark, kernelLogSince } from './kmsg';

/**
 * insmod with the module's parameters; on failure a UserError with insmod's message and the kernel's lines since
 * `mark` (a caller that has just taken one passes it: the read is the whole ring buffer, slow when it is full).
 */
export async function insmod(ko: string, what: string, parameters: string[] = [], mark = kernelLogMark()): Promise<void> {
  const result = await execa('insmod', [ko, ...parameters], { reject: false, all: true });
  if (result.exitCode === 0) return;
  const said = String(result.all ?? result.shortMessage ?? '').trim().split('\n').pop();
  throw new UserError(withKernelLines(`${what}: insmod refused the module: ${said}`, kernelLogSince(mark)));
}

/** rmmod; returns the error text instead of throwing, so callers decide how bad it is. */
export async function rmmod(module: string): Promise<string | undefined> {
  const result = await execa('rmmod', [module], { reject: false, all: true });
  return result.exitCode === 0 ? undefined : String(result.all ?? result.shortMessage ?? '').trim().split('\n').pop();
}

/** One line for the user, then the kernel's own lines (indented) that explain it. */
export function withKernelLines(line: string, kernel: string[]): string {
  const shown = kernel.filter((l) => !isSwitchReport(l)).slice(-12);
  return shown.length ? `${line}\n${shown.map((l) => `  kernel: ${l}`).join('\n')}` : line;
}
