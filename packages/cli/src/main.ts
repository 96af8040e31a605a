import { UserError } from '@hotsplice/kernel';
import { cacheServerCommand } from './commands/cache-server';
import { createCommand } from './commands/create';
import { diffCommand } from './commands/diff';
import { guestCommand } from './commands/guest';
import { kernelCommand } from './commands/kernel';

export type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  kernel: { run: kernelCommand, summary: 'kernel prepare [--abi A] [--json]   fetch and prepare a Debian kernel' },
  create: {
    run: createCommand,
    summary: 'create (--patch F… | --git RANGE | --diffext DIR --ext EXT) [--id ID] [--abi A] [--json]   build an update (Nx)',
  },
  diff: {
    run: diffCommand,
    summary: 'diff PRE.o POST.o --parent ELF [--symvers F] [--objname N] --out NEW.o [--old-out OLD.o] [--json]',
  },
  guest: { run: guestCommand, summary: 'guest --run SCRIPT [--file F]… [--json]   run a script in a QEMU guest' },
  'cache-server': { run: cacheServerCommand, summary: 'cache-server --dir D --port P [--read-token T] [--write-token T]   Nx remote cache (nginx)' },
};

export function usage(): string {
  return ['usage: hotsplice <command> …', ...Object.values(COMMANDS).map((c) => `  hotsplice ${c.summary}`)].join('\n');
}

/** Run one CLI invocation; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`hotsplice: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`hotsplice: ${err.message}\n`);
    return err.exitCode;
  }
  const parseError = err as { code?: string; message?: string };
  if (parseError.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`hotsplice: ${parseError.message}\n`);
    return 2;
  }
  if (process.env.HOTSPLICE_DEBUG) console.error(err);
  process.stderr.write(`hotsplice: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 70;
}
