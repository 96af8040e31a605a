import { MARK } from './init-script';

export interface ScriptResult {
  name: string;
  /** null when the guest never reached the script's end marker (crash, timeout). */
  exitCode: number | null;
  output: string;
}

export interface ConsoleReport {
  /** Guest uptime (s) when /init started, as the guest measured it. */
  guestBootSeconds: number | null;
  scripts: ScriptResult[];
  dmesg: string;
  /** Kernel log lines that show an oops, BUG, WARNING or panic. */
  problems: string[];
  completed: boolean;
}

/** Lines the kernel prints when something went wrong (kernel/panic.c, lib/bug.c, arch/x86/kernel/dumpstack.c). */
const PROBLEM = [
  /\bWARNING: CPU: \d+ PID: \d+/,
  /------------\[ cut here \]------------/,
  /\bBUG: /,
  /\bkernel BUG at /,
  /\bOops: /,
  /\bgeneral protection fault\b/,
  /\bKernel panic - not syncing\b/,
  /\bdouble fault\b/,
];

/** CONFIG_PRINTK_TIME=y in Debian's config: console lines from the kernel start with "[    1.234567] ". */
const KERNEL_LINE = /^\[\s*\d+\.\d+\] /;

export function isProblemLine(line: string): boolean {
  return PROBLEM.some((re) => re.test(line));
}

/** Split a guest console transcript into per-script results, the kernel log, and problems. */
export function parseConsole(text: string): ConsoleReport {
  const lines = text.replace(/\r/g, '').split('\n');
  const report: ConsoleReport = { guestBootSeconds: null, scripts: [], dmesg: '', problems: [], completed: false };
  let current: ScriptResult | undefined;
  let inDmesg = false;
  const dmesg: string[] = [];
  for (const line of lines) {
    const booted = line.match(/@@HOTSPLICE:BOOTED ([\d.]+)@@/);
    const begin = line.match(/@@HOTSPLICE:BEGIN:([\w.-]+)@@/);
    const end = line.match(/@@HOTSPLICE:END:([\w.-]+):(\d+)@@/);
    if (booted) report.guestBootSeconds = Number(booted[1]);
    else if (begin) {
      current = { name: begin[1], exitCode: null, output: '' };
      report.scripts.push(current);
    } else if (end && current?.name === end[1]) {
      current.exitCode = Number(end[2]);
      current = undefined;
    } else if (line.includes(MARK.dmesg)) inDmesg = true;
    else if (line.includes(MARK.dmesgEnd)) inDmesg = false;
    else if (line.includes(MARK.done)) report.completed = true;
    else if (inDmesg) dmesg.push(line);
    else if (current) current.output += `${line}\n`;
    // Outside the scripts' output every line is the kernel's; inside it, kernel lines carry a printk timestamp.
    const kernelLine = inDmesg || !current || KERNEL_LINE.test(line);
    if (kernelLine && isProblemLine(line)) report.problems.push(line.trim());
  }
  report.dmesg = dmesg.join('\n');
  report.problems = [...new Set(report.problems)];
  return report;
}
