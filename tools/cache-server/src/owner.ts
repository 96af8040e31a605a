import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Which process a server folder belongs to: `run/owner` holds the server's pid and its start time (field 22 of
 * /proc/<pid>/stat), so a pid reused by another process after a crash does not count as the owner.
 */
export async function writeOwner(dir: string): Promise<void> {
  await writeFile(join(dir, 'run', 'owner'), `${process.pid} ${await startTime(process.pid)}\n`);
}

/** The owner's pid when it still runs, else undefined. */
export async function liveOwner(dir: string): Promise<number | undefined> {
  const [pid, start] = (await readFile(join(dir, 'run', 'owner'), 'utf8').catch(() => '')).trim().split(' ');
  if (!pid || !start) return undefined;
  return (await startTime(Number(pid))) === start ? Number(pid) : undefined;
}

/** The pid of the folder's nginx master when one runs: its pid file, confirmed by its command line. */
export async function folderNginx(dir: string, configFile: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dir, 'run', 'nginx.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || !(await running(pid))) return undefined;
  // The master's title is "nginx: master process <binary> -p <dir> -c <config> …" (NULs before it renames itself).
  const cmdline = `${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')} `;
  return cmdline.includes('nginx') && cmdline.includes(` -c ${configFile} `) ? pid : undefined;
}

/** Alive and not a zombie. */
export async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, starttime 22.
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] : undefined;
}
