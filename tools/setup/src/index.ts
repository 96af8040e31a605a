import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError } from '@hotsplice/kernel';

/** The steps of tools/setup/system-packages.txt: each installs its Debian packages when it first runs. */
export type SystemStep = 'build' | 'guest' | 'cache-server' | 'distcc' | 'deliver';

// Bundled code lives in node_modules/.cache: the bundle names the repository in HOTSPLICE_REPO_ROOT.
const SCRIPT = join(process.env.HOTSPLICE_REPO_ROOT ?? join(__dirname, '..', '..', '..'), 'tools', 'setup', 'ensure-system.sh');
const ensured = new Set<SystemStep>();

/**
 * Install the Debian packages `step` needs that this machine lacks (tools/setup/ensure-system.sh; as root, with apt),
 * once per process: a few ms when they are all there. What it installs is said on stderr; a machine where it cannot
 * install them is a one-line UserError naming the packages.
 */
export function ensureSystem(step: SystemStep): void {
  if (ensured.has(step)) return;
  const r = spawnSync('bash', [SCRIPT, step], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').pop()?.replace(/^hotsplice: /, '');
    throw new UserError(why || `${SCRIPT} ${step} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
  if (!r.stdout.includes('(0 installed now)')) process.stderr.write(r.stdout);
  ensured.add(step);
}
