import { type CommandTable, runCli } from './cli';
import { TARGET_COMMANDS } from './target';
import * as verbs from './verbs';

const COMMANDS: CommandTable = {
  kernel: { verb: verbs.kernel, brief: 'fetch and prepare a Debian kernel', load: () => import('./commands/kernel').then((m) => m.kernelCommand) },
  create: { verb: verbs.create, brief: 'build a live update from a source patch (Nx)', load: () => import('./commands/create').then((m) => m.createCommand) },
  diff: { verb: verbs.diff, brief: "one object pair's new and old code (objmanip)", load: () => import('./commands/diff').then((m) => m.diffCommand) },
  guest: { verb: verbs.guest, brief: 'run scripts in a QEMU guest booting the prepared kernel', load: () => import('./commands/guest').then((m) => m.guestCommand) },
  repo: { verb: verbs.repo, brief: "an apt repository of the updates' .debs for a fleet", load: () => import('./commands/repo').then((m) => m.repoCommand) },
  'cache-server': { verb: verbs.cacheServer, brief: "Nx's remote cache on nginx", load: () => import('./commands/cache-server').then((m) => m.cacheServerCommand) },
  ...TARGET_COMMANDS,
};

/** The workspace CLI: every verb. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, COMMANDS);
}
