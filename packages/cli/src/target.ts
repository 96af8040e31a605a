// The verbs a target machine runs (ksplice-apply / -undo / -view): they need only Node and the update package, and
// ship as one self-contained file (target-bin.ts, bundled by tools/guest bundleCli).
import type { CommandTable } from './cli';
import * as verbs from './verbs';

export const TARGET_COMMANDS: CommandTable = {
  apply: { verb: verbs.apply, brief: 'load an update into the running kernel', load: () => import('./commands/apply').then((m) => m.applyCommand) },
  undo: { verb: verbs.undo, brief: 'take an update out again', load: () => import('./commands/undo').then((m) => m.undoCommand) },
  view: { verb: verbs.view, brief: 'the updates loaded now', load: () => import('./commands/view').then((m) => m.viewCommand) },
  status: { verb: verbs.status, brief: 'one update in detail (exit 1: not applied)', load: () => import('./commands/view').then((m) => m.statusCommand) },
  install: { verb: verbs.install, brief: 'keep an update across reboots (applied now on its kernel, else dormant)', load: () => import('./commands/installed').then((m) => m.installCommand) },
  uninstall: { verb: verbs.uninstall, brief: 'undo an installed update and forget it', load: () => import('./commands/installed').then((m) => m.uninstallCommand) },
  list: { verb: verbs.list, brief: 'installed updates per kernel, beside what is loaded', load: () => import('./commands/installed').then((m) => m.listCommand) },
  verify: { verb: verbs.verify, brief: 'run-pre alone: does the running kernel hold the code the update replaces?', load: () => import('./commands/verify').then((m) => m.verifyCommand) },
};
