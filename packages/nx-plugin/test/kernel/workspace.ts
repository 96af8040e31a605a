import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { withTreeLock } from '@hotsplice/tree';

export const REPO = join(__dirname, '..', '..', '..', '..');

/** A scratch copy of this workspace (its tracked and new files, node_modules linked) with its own Nx cache. */
export function scratchWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hs-ws-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file && !file.startsWith('.hotsplice/'));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      copyFileSync(join(REPO, file), join(dir, file));
    } catch {
      // a file deleted but not yet committed
    }
  }
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/**
 * `look` at the shared kernel tree while holding its lock: other test files patch it (under that lock) at the same
 * time, so only then is it the tree as prepared (or as an interrupted run left it).
 */
export function atRest<T>(tree: string, look: () => T): Promise<T> {
  return withTreeLock(tree, async () => look());
}

export function writeConfig(ws: string, id: string, patches: string[]): void {
  writeFileSync(join(ws, 'hotpatch.json'), `${JSON.stringify({ id, kernel: { abi: 'newest' }, patches }, null, 2)}\n`);
}

export interface NxRun {
  code: number;
  output: string;
  /** Every task of the run: 'ran' if its executor really executed, 'cache' if Nx restored it. */
  tasks: Map<string, 'ran' | 'cache'>;
}

/** Run Nx in the scratch workspace and read which tasks ran and which were cache hits from its own output. */
export function nx(ws: string, args: string[], env: NodeJS.ProcessEnv = {}): NxRun {
  // The executors note every task they really execute here (executors/common.ts recordRun).
  const runLog = join(mkdtempSync(join(tmpdir(), 'hs-runlog-')), 'ran');
  writeFileSync(runLog, '');
  const r = spawnSync(process.execPath, [join(ws, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args, '--output-style=static'], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', HOTSPLICE_RUN_LOG: runLog, ...env },
    maxBuffer: 64 << 20,
  });
  // Nx colours its output when it thinks it runs in CI (CI=true, as .ci/run is run): read it without the colours.
  const output = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const ran = readFileSync(runLog, 'utf8').split('\n').filter(Boolean);
  const tasks = new Map<string, 'ran' | 'cache'>();
  // Nx names each task it restores from the cache; batched tasks it runs get no header, the run log has them.
  for (const m of output.matchAll(/^> nx run (\S+)/gm)) tasks.set(m[1], 'cache');
  for (const id of ran) tasks.set(id, 'ran');
  return { code: r.status ?? 1, output, tasks };
}

/** `hotsplice create ARGS…` in the scratch workspace, as a user runs it: exit code and both streams. */
export function create(ws: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(ws, 'packages', 'cli', 'bin', 'hotsplice.js'), 'create', ...args], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
