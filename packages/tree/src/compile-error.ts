import { UserError } from '@hotsplice/kernel';

/** gcc's and objtool's own diagnostics: `file:line[:col]: [fatal ]error: …` (gcc), `x.o: error: objtool: …`. */
export const DIAGNOSTIC = /^\S+?:(\d+:(\d+:)? )?(fatal )?error: /;
/** make's line for a target whose recipe failed: `make[3]: *** [scripts/Makefile.build:250: fs/x.o] Error 1`. */
const MAKE_FAILED = /\*\*\* \[[^\]]*?:\s*(\S+)\] Error \d+/;

const SHOWN = 6;

/**
 * The error a failed compile raises: the objects it names, then the compiler's own first error lines (or the
 * output's last lines when it printed none that look like one), so the user sees `fs/x.c:12:3: error: …` first.
 */
export function compileFailure(objects: string[], output: string): UserError {
  const lines = output.split('\n').map((l) => l.trimEnd());
  const failed = [...new Set(lines.flatMap((l) => MAKE_FAILED.exec(l)?.[1] ?? []))].filter((o) => objects.includes(o));
  const errors = lines.filter((l) => DIAGNOSTIC.test(l));
  const shown = (errors.length ? errors : lines.filter(Boolean).slice(-SHOWN)).slice(0, SHOWN);
  const more = errors.length > SHOWN ? `\n(${errors.length - SHOWN} more error lines)` : '';
  const what = (failed.length ? failed : objects).join(', ');
  return new UserError(`${what} does not compile:\n${shown.join('\n')}${more}`);
}
