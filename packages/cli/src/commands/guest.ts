import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type GuestResult, MARK, runGuest } from '@hotsplice/guest';
import { UserError, prepareKernel } from '@hotsplice/kernel';
import { parseVerb, usageError } from '../verb';
import { guest as GUEST } from '../verbs';

/**
 * `hotsplice guest --run SCRIPT [--run SCRIPT2]… [--file F]… [--node] [--cli] [--json]`: boot the prepared kernel
 * under QEMU with the scripts and files, stream the console to stderr, exit with the first failing script's code.
 */
export async function guestCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(GUEST, args);
  if (!values.run?.length) throw usageError(GUEST);
  const timeoutSeconds = Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new UserError(`--timeout must be a number of seconds, not "${values.timeout}"`, 2);
  const scripts = await Promise.all(
    values.run.map(async (file) => ({
      name: basename(file).replace(/[^\w.-]/g, '_'),
      content: await readFile(file, 'utf8').catch(() => {
        throw new UserError(`cannot read script ${file}`);
      }),
    })),
  );
  const kernel = await prepareKernel({ abi: values.abi, quiet: true });
  const result = await runGuest({
    kernel: kernel.vmlinuz,
    scripts,
    files: values.file?.map((source) => ({ source })),
    node: values.node,
    cli: values.cli,
    timeoutMs: timeoutSeconds * 1000,
    onLine: values.quiet ? undefined : consoleStreamer(),
  });
  if (values.json) {
    const { console: _console, ...rest } = result;
    process.stdout.write(`${JSON.stringify({ abi: kernel.abi, ...rest }, null, 2)}\n`);
  } else if (values.quiet) {
    for (const script of result.scripts) process.stdout.write(script.output);
  }
  process.stderr.write(`${summary(result)}\n`);
  return exitCode(result);
}

/** Stream the console to stderr, except the kernel-log dump at the end (it is in --json's `dmesg`). */
function consoleStreamer(): (line: string) => void {
  let inDmesg = false;
  return (line) => {
    if (line.includes(MARK.dmesg)) inDmesg = true;
    if (!inDmesg) process.stderr.write(`guest| ${line}\n`);
    if (line.includes(MARK.dmesgEnd)) inDmesg = false;
  };
}

function summary(r: GuestResult): string {
  const scripts = r.scripts.map((s) => `${s.name}=${s.exitCode ?? 'did not finish'}`).join(' ');
  const boot = r.bootSeconds === null ? 'never reached /init' : `booted in ${r.bootSeconds.toFixed(1)} s`;
  const problems = r.problems.length ? `; kernel problems: ${r.problems.slice(0, 3).join(' | ')}` : '';
  const timeout = r.timedOut ? '; timed out' : '';
  return `hotsplice guest: ${boot}, total ${r.totalSeconds.toFixed(1)} s; ${scripts}${problems}${timeout}`;
}

/** First failing script's code; 124 on timeout; 1 for a kernel problem or a guest that did not finish. */
export function exitCode(r: GuestResult): number {
  if (r.timedOut) return 124;
  const failed = r.scripts.find((s) => s.exitCode !== 0);
  if (failed) return failed.exitCode ?? 1;
  return r.ok ? 0 : 1;
}
