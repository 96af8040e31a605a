// One verb of the command line, described once: its parser's options and its `--help` page come from the same table,
// so the help lists exactly what the verb accepts.
import { parseArgs } from 'node:util';
import { UserError } from '@hotsplice/kernel';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  default?: string;
  /** The value's name in the help (FILE, S, N); string options only. */
  value?: string;
  help: string;
}

export interface Verb {
  name: string;
  /** The synopsis after "hotsplice ". */
  usage: string;
  /** What it does, in one line. */
  summary: string;
  /** Positional arguments in order, each with what it is; none allowed when absent. */
  args?: Readonly<Record<string, string>>;
  options: Readonly<Record<string, OptionSpec>>;
  /** The verb's own exit codes (a number, or a word for a code that varies); 2 and 70 hold for every verb. */
  exits: Readonly<Record<string, string>>;
  example: string;
}

export const EXIT_ALWAYS: Readonly<Record<string, string>> = {
  2: 'bad usage (an unknown option, a missing argument)',
  70: 'internal error, a bug (HOTSPLICE_DEBUG=1 prints the stack)',
};

/** `--help` and `-h` of every verb; parsed before the verb's own code is loaded. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** The verb's arguments, by its own option table (`-h`/`--help` are answered before a verb runs). */
export function parseVerb<V extends Verb>(verb: V, args: string[]) {
  return parseArgs({ args, options: verb.options as V['options'], allowPositionals: Boolean(verb.args) });
}

/** Whether the arguments ask for the verb's help (an option's value "-h" does not). */
export function asksForHelp(verb: Verb, args: string[]): boolean {
  return Boolean(parseArgs({ args, options: { ...verb.options, ...HELP }, strict: false, allowPositionals: true }).values.help);
}

/** The one-line usage error of a verb (exit 2). */
export function usageError(verb: Verb): UserError {
  return new UserError(`usage: hotsplice ${verb.usage} (hotsplice ${verb.name} --help for more)`, 2);
}

/** `hotsplice VERB --help`: usage, what it does, arguments, options, exit codes, one example. */
export function helpText(verb: Verb): string {
  const rows = (entries: Array<[string, string]>) => {
    const width = Math.max(...entries.map(([left]) => left.length));
    return entries.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
  };
  const options: Array<[string, string]> = Object.entries(verb.options).map(([name, o]) => [
    `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    `${o.help}${o.multiple ? ' (repeatable)' : ''}${o.default !== undefined ? ` (default ${o.default})` : ''}`,
  ]);
  options.push(['-h, --help', 'this help']);
  const exits = { ...verb.exits, ...EXIT_ALWAYS };
  return [
    `usage: hotsplice ${verb.usage}`,
    '',
    ...wrap(verb.summary, 100),
    ...(verb.args ? ['', 'arguments:', ...rows(Object.entries(verb.args))] : []),
    '',
    'options:',
    ...rows(options),
    '',
    'exit codes:',
    ...rows(Object.entries(exits)),
    '',
    'example:',
    `  ${verb.example}`,
    '',
  ].join('\n');
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (lines[last] && lines[last].length + 1 + word.length > width) lines.push(word);
    else lines[last] = lines[last] ? `${lines[last]} ${word}` : word;
  }
  return lines;
}
