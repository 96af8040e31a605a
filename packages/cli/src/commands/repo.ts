import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import { UserError } from '@hotsplice/kernel';
import { writeAptRepo } from '@hotsplice/link';
import { ensureSystem } from '../../../../tools/setup/src';
import { parseVerb } from '../verb';
import { repo as REPO } from '../verbs';
import { workspaceRoot } from './create';

/**
 * `hotsplice repo`: an apt repository of every .deb the workspace's package steps wrote (dist/hotpatch/**), signed
 * with the user's key when --sign names one. Exit 0: written; 1: no packages, two different packages of one name and
 * version, or signing failed.
 */
export async function repoCommand(args: string[]): Promise<number> {
  const { values } = parseVerb(REPO, args);
  ensureSystem('deliver');
  const root = workspaceRoot();
  const out = resolve(values.out ?? join(root, 'dist', 'apt'));
  const debs = (await fg('dist/hotpatch/**/*.deb', { cwd: root, absolute: true })).sort();
  if (!debs.length) throw new UserError(`no .deb under ${join(root, 'dist', 'hotpatch')}: build an update first (nx run kernel:hotpatch or hotsplice create)`);
  const result = await writeAptRepo({ debs, out, signKey: values.sign });
  for (const note of result.notes) process.stderr.write(`hotsplice: ${note}\n`);
  const line = result.signed
    ? `deb [signed-by=/etc/apt/keyrings/hotsplice-archive-keyring.gpg] <URL of ${out}> ./`
    : `deb [trusted=yes] <URL of ${out}> ./`;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result, sourcesLine: line }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    [
      `apt repository ${out}: ${result.packages.length} package(s)${result.signed ? `, signed with ${values.sign}` : ', unsigned'}`,
      ...result.packages.map((p) => `  ${p.name} ${p.version}`),
      `sources line for the fleet: ${line}`,
      ...(result.signed ? [`  (copy ${join(out, 'hotsplice-archive-keyring.gpg')} to /etc/apt/keyrings/ on each machine)`] : []),
      '',
    ].join('\n'),
  );
  return 0;
}
