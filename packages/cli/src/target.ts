// The verbs a target machine runs (ksplice-apply / -undo / -view): they need only Node and the update package, and
// ship as one self-contained file (target-bin.ts, bundled by tools/guest bundleCli).
import { applyCommand } from './commands/apply';
import { undoCommand } from './commands/undo';
import { verifyCommand } from './commands/verify';
import { statusCommand, viewCommand } from './commands/view';
import type { CommandTable } from './cli';

export const TARGET_COMMANDS: CommandTable = {
  apply: {
    run: applyCommand,
    summary: 'apply PACKAGE [--timeout S] [--skip-run-pre] [--json]   load an update into the running kernel',
  },
  undo: { run: undoCommand, summary: 'undo ID [--timeout S] [--force] [--json]   take an update out again' },
  view: { run: viewCommand, summary: 'view [--json]   the updates loaded now' },
  status: { run: statusCommand, summary: 'status ID [--json]   one update in detail (exit 1: not applied)' },
  verify: { run: verifyCommand, summary: 'verify PACKAGE [--json]   run-pre check alone: does the running kernel hold the code the update replaces? (exit 1: no)' },
};
