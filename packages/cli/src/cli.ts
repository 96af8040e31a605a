import { UserError, environmentError } from '@hotsplice/kernel';
import packageJson from '../package.json';
import { type Verb, asksForHelp, helpText } from './verb';

export type Command = (args: string[]) => Promise<number>;

/** A verb as the command line dispatches it: its description, and its code, loaded only when it runs. */
export interface CommandEntry {
  verb: Verb;
  /** A few words for the command list. */
  brief: string;
  load: () => Promise<Command>;
}
export type CommandTable = Record<string, CommandEntry>;

export function usage(commands: CommandTable): string {
  // The leading words of each synopsis: "kernel prepare", "create", "apply".
  const names = Object.values(commands).map(({ verb }) => verb.usage.split(' ').filter((w, i, all) => all.slice(0, i + 1).every((x) => /^[a-z][\w-]*$/.test(x))).join(' '));
  const width = Math.max(...names.map((n) => n.length));
  return [
    'usage: hotsplice <command> [arguments] [options]',
    '',
    'commands:',
    ...Object.values(commands).map((c, i) => `  ${names[i].padEnd(width)}  ${c.brief}`),
    '',
    'hotsplice <command> --help shows its options, exit codes and an example; hotsplice --version the version.',
  ].join('\n');
}

/** Run one CLI invocation; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function runCli(argv: string[], commands: CommandTable): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`hotsplice ${packageJson.version}\n`);
    return 0;
  }
  if (name === '--man') {
    process.stdout.write(manPage(commands));
    return 0;
  }
  if (name === 'help' && rest[0] && Object.hasOwn(commands, rest[0])) return runCli([rest[0], '--help'], commands);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage(commands)}\n`);
    return name ? 0 : 2;
  }
  if (!Object.hasOwn(commands, name)) {
    process.stderr.write(`hotsplice: unknown command "${name}"\n${usage(commands)}\n`);
    return 2;
  }
  const { verb, load } = commands[name];
  try {
    if (asksForHelp(verb, rest)) {
      process.stdout.write(helpText(verb));
      return 0;
    }
    return await (await load())(rest);
  } catch (err) {
    return reportError(err, name);
  }
}

function reportError(err: unknown, name: string): number {
  const known = userError(err) ?? environmentError(err);
  if (known) {
    process.stderr.write(`hotsplice: ${known.message}\n`);
    return known.exitCode;
  }
  const parseError = err as { code?: string; message?: string };
  if (parseError.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`hotsplice: ${parseError.message} (hotsplice ${name} --help lists the options)\n`);
    return 2;
  }
  if (process.env.HOTSPLICE_DEBUG) console.error(err);
  process.stderr.write(`hotsplice: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 70;
}

/** A UserError, also one thrown from a verb's own bundle file, which holds its own copy of the class. */
function userError(err: unknown): UserError | undefined {
  if (err instanceof UserError) return err;
  const e = err as { name?: unknown; message?: unknown; exitCode?: unknown } | undefined;
  return e?.name === 'UserError' && typeof e.message === 'string' && typeof e.exitCode === 'number' ? new UserError(e.message, e.exitCode) : undefined;
}

/** hotsplice(8) in roff, from the same verb table as --help (`hotsplice --man`; the hotsplice-tools package ships it). */
export function manPage(commands: CommandTable): string {
  const esc = (text: string) => text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
  const lines = [
    `.TH HOTSPLICE 8 "" "hotsplice ${packageJson.version}" "System Administration"`,
    '.SH NAME',
    'hotsplice \\- apply live updates to the running Linux kernel and keep them across reboots',
    '.SH SYNOPSIS',
    ...Object.values(commands).flatMap(({ verb }) => ['.B hotsplice', esc(verb.usage), '.br']),
    '.SH COMMANDS',
  ];
  for (const { verb } of Object.values(commands)) {
    lines.push('.TP', `.B ${esc(verb.usage.split(' ')[0])}`, esc(verb.summary));
    for (const [option, o] of Object.entries(verb.options)) {
      lines.push('.RS', '.TP', `.B \\-\\-${esc(option)}${o.type === 'string' ? ` ${esc(o.value ?? 'VALUE')}` : ''}`, esc(o.help), '.RE');
    }
  }
  lines.push(
    '.SH FILES',
    '.TP',
    '.I /var/lib/hotsplice',
    'applied updates (applied/) and installed ones per kernel ABI (updates/); HOTSPLICE_STATE_DIR overrides it',
    '.TP',
    '.I /lib/systemd/system/hotsplice.service',
    'runs hotsplice apply \\-\\-installed early at boot',
    '.SH "EXIT STATUS"',
    '0 success, 1 refused or failed (one line says why), 2 bad usage, 124 a livepatch transition timed out, 70 an internal error.',
    '',
  );
  return lines.join('\n');
}
