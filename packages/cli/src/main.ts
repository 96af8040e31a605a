import { type CommandTable, runCli, usage as usageOf } from './cli';
import { cacheServerCommand } from './commands/cache-server';
import { createCommand } from './commands/create';
import { diffCommand } from './commands/diff';
import { guestCommand } from './commands/guest';
import { kernelCommand } from './commands/kernel';
import { TARGET_COMMANDS } from './target';

export type { Command } from './cli';

const COMMANDS: CommandTable = {
  kernel: { run: kernelCommand, summary: 'kernel prepare [--abi A] [--json] | kernel list [--refresh] [--json]   prepare a Debian kernel; list the ABIs apt offers' },
  create: {
    run: createCommand,
    summary: 'create (--patch F… | --git RANGE | --diffext DIR --ext EXT) [--id ID] [--abi A] [--fuzz N] [--replace] [--json]   build an update (Nx)',
  },
  diff: {
    run: diffCommand,
    summary: 'diff PRE.o POST.o --parent ELF [--symvers F] [--objname N] --out NEW.o [--old-out OLD.o] [--json]',
  },
  guest: { run: guestCommand, summary: 'guest --run SCRIPT [--file F]… [--json]   run a script in a QEMU guest' },
  'cache-server': { run: cacheServerCommand, summary: 'cache-server --dir D --port P [--read-token T] [--write-token T]   Nx remote cache (nginx)' },
  ...TARGET_COMMANDS,
};

export function usage(): string {
  return usageOf(COMMANDS);
}

/** The workspace CLI: every verb. */
export function main(argv: string[]): Promise<number> {
  return runCli(argv, COMMANDS);
}
