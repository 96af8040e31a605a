import { readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { shellWords } from './kbuild-cmd';

/**
 * The preprocessor run of an object's own kbuild compile (`cmd_X.o`, as `.X.o.cmd` records it or a dry run of
 * make prints it): the same gcc, flags, defines and source in the same order, with `-c -o X.o` turned into
 * `-E -o OUT` and kbuild's dependency file (`-Wp,-MMD,…`, which fixdep would consume) left out.
 */
export function preprocessCommand(command: string, out: string): { file: string; args: string[] } {
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
      args.push('-E', '-o', out);
      i++;
      continue;
    }
    args.push(w);
  }
  if (!file || !sawCompile || !args.includes('-E')) throw new Error(`not a kbuild compile command: ${command.slice(0, 120)}`);
  return { file, args };
}

/** Preprocess one object's source in the tree: the unit's bytes, or gcc's first error lines. */
export async function preprocessObject(tree: string, command: string, out: string): Promise<{ bytes: Buffer } | { error: string }> {
  const { file, args } = preprocessCommand(command, out);
  try {
    const result = await execa(file, args, { cwd: tree, reject: false, all: true });
    if (result.failed) return { error: String(result.all ?? result.shortMessage).split('\n').slice(0, 6).join('\n') };
    return { bytes: await readFile(out) };
  } finally {
    await rm(out, { force: true });
  }
}
