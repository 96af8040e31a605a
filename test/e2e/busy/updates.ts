// The busy cases' two updates, made with the real `hotsplice create` in a scratch workspace: the sleeping-stack
// update (SLEEPING) and the hot-path one (HOT with the D-state case). Shared by the e2e test and bench:busy.
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { DSTATE, HOT, SLEEPING, buildLoad, writePatches } from './cases';
import { DIGEST, round } from './script';

export const SLEEPERS_ID = 'busy_sleepers';
export const HOT_ID = 'busy_hot';
/** Tasks asleep per kind of sleep (issue 16: 200 each). */
export const PER_KIND = 200;

/** The guest script of one apply/undo of the sleeping-stack update, PER_KIND tasks asleep in each of its functions. */
export const sleepersRound = (tag: string, grace: number) =>
  round({ tag, id: SLEEPERS_ID, loads: SLEEPING.map((c) => ['block', c.load!, String(PER_KIND)]), grace });

/** The same for the hot-path update, under a loopback TCP flood. */
export const hotRound = (tag: string, grace: number) => round({ tag, id: HOT_ID, loads: [['tcp']], grace });

export interface Created {
  id: string;
  code: number;
  stderr: string;
  seconds: number;
  /** The package create wrote. */
  package: string;
}

function create(ws: string, abi: string, id: string, patches: string[]): Created {
  const start = performance.now();
  const args = [join(ws, 'packages', 'cli', 'bin', 'hotsplice.js'), 'create', ...patches.flatMap((p) => ['--patch', p]), '--id', id, '--abi', abi];
  const r = spawnSync(process.execPath, args, { cwd: ws, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' }, maxBuffer: 64 << 20 });
  const stderr = r.stderr.replace(/\x1b\[[0-9;]*m/g, '');
  return { id, code: r.status ?? 1, stderr, seconds: (performance.now() - start) / 1000, package: join(ws, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`) };
}

/** Both updates for kernel `abi` (its prepared tree `tree`), patches written into `scratch`; throws if a create fails. */
export function createBusyUpdates(ws: string, abi: string, tree: string, scratch: string): Created[] {
  const made = [
    create(ws, abi, SLEEPERS_ID, writePatches(tree, scratch, SLEEPERS_ID, SLEEPING)),
    create(ws, abi, HOT_ID, writePatches(tree, scratch, HOT_ID, [...HOT, DSTATE])),
  ];
  for (const c of made) {
    if (c.code !== 0) throw new Error(`create ${c.id} failed:\n${c.stderr.trim().split('\n').slice(-8).join('\n')}`);
  }
  return made;
}

/** What the guest gets: hs-load (built into `scratch`), digest.cjs and the updates' packages. */
export function busyFiles(created: Created[], scratch: string): Array<{ source: string; dest: string; mode?: number }> {
  return [
    { source: buildLoad(join(scratch, 'hs-load')), dest: 'hs-load', mode: 0o755 },
    { source: join(__dirname, 'digest.cjs'), dest: basename(DIGEST) },
    ...created.map((c) => ({ source: c.package, dest: `hotsplice-${c.id}.tar.gz` })),
  ];
}
