import { DIAGNOSTIC } from './compile-error';
import { shellWords } from './kbuild-cmd';
import type { ShellPool } from './shell-pool';

/**
 * The preprocessor run of an object's own kbuild compile (`cmd_X.o`, as `.X.o.cmd` records it or a dry run of
 * make prints it): the same gcc, flags, defines and source in the same order, with `-c -o X.o` turned into `-E`
 * (to standard output) and kbuild's dependency file (`-Wp,-MMD,…`, which fixdep would consume) left out. No
 * working-directory linemarker (`-fno-working-directory`; `-g` turns it on): the same unit preprocessed in two
 * copies of the tree then starts with the same bytes. No macro-expansion tracking (`-ftrack-macro-expansion=0`:
 * it only serves diagnostics; the output is byte-identical and gcc needs a third less time, measured on
 * kernel/audit.c).
 */
export function preprocessCommand(command: string, out = '-'): { file: string; args: string[] } {
  const words = shellWords(command);
  const end = words.indexOf(';');
  const compile = end < 0 ? words : words.slice(0, end);
  const [file, ...rest] = compile;
  const args: string[] = [];
  let sawCompile = false;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w.startsWith('-Wp,-MMD,') || w.startsWith('-Wp,-MD,')) continue;
    if (w === '-c') {
      sawCompile = true;
      continue;
    }
    if (w === '-o') {
      args.push('-E', '-fno-working-directory', '-ftrack-macro-expansion=0', '-o', out);
      i++;
      continue;
    }
    args.push(w);
  }
  if (!file || !sawCompile || !args.includes('-E')) throw new Error(`not a kbuild compile command: ${command.slice(0, 120)}`);
  return { file, args };
}

/** Preprocess one object's source in `tree`: the unit's bytes, or gcc's first error line. */
export async function preprocessObject(pool: ShellPool, tree: string, command: string): Promise<{ bytes: Buffer } | { error: string }> {
  const { file, args } = preprocessCommand(command);
  const result = await pool.run(tree, file, args);
  // gcc's first `file:line:col: error:` line says why ("In file included from …" lines come first).
  const lines = result.stderr.split('\n');
  if (result.code !== 0) return { error: lines.find((l) => DIAGNOSTIC.test(l)) ?? (lines.find(Boolean) || `${file} exited with ${result.code}`) };
  return { bytes: result.stdout };
}
