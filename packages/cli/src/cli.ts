import { UserError, environmentError } from '@hotsplice/kernel';

export type Command = (args: string[]) => Promise<number>;
export type CommandTable = Record<string, { run: Command; summary: string }>;

export function usage(commands: CommandTable): string {
  return ['usage: hotsplice <command> …', ...Object.values(commands).map((c) => `  hotsplice ${c.summary}`)].join('\n');
}

/** Run one CLI invocation; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function runCli(argv: string[], commands: CommandTable): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage(commands)}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`hotsplice: unknown command "${name}"\n${usage(commands)}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    return reportError(err);
  }
}

function reportError(err: unknown): number {
  if (!(err instanceof UserError)) err = environmentError(err) ?? err;
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
