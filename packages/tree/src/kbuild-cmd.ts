// kbuild's record of how it compiled an object (the `cmd_X.o := …` line of `.X.o.cmd`), parsed into argv: the
// flags every other compile of this tree (fixtures, dependency scans) must use, taken from kbuild, never retyped.

/** The compile and objtool command lines of one kbuild object, split into argv. */
export interface KbuildCommand {
  /** gcc's executable (gcc-12). */
  cc: string;
  /** Every gcc flag except -Wp,-MMD,…, the -c -o OUT IN part and the KBUILD_* defines. */
  cflags: string[];
  /** objtool's executable, relative to the tree (./tools/objtool/objtool), or undefined when kbuild ran none. */
  objtool?: string;
  /** objtool's flags without the object (kbuild appends --module for module objects). */
  objtoolArgs: string[];
}

/** Split a /bin/sh command line into words (single/double quotes and backslashes; `;` stays a word). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) i++;
        word += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === ';' && !inWord) {
      words.push(';');
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Parse the first line of a kbuild `.X.o.cmd` file (`cmd_X.o := gcc … ; objtool … X.o`). */
export function parseKbuildCmd(text: string): KbuildCommand {
  const first = text.split('\n', 1)[0] ?? '';
  const m = /^(?:saved)?cmd_(\S+)\s*:=\s*(.*)$/.exec(first); // savedcmd_ since 6.2 (deps.ts)
  if (!m) throw new Error(`not a kbuild .cmd file (first line: ${first.slice(0, 120)})`);
  const object = m[1]!;
  const words = shellWords(m[2]!);
  const parts: string[][] = [[]];
  for (const w of words) (w === ';' ? parts.push([]) : parts[parts.length - 1]!.push(w));
  const [compile, ...rest] = parts.filter((p) => p.length > 0);
  if (!compile || !/gcc/.test(compile[0]!)) throw new Error(`no gcc command in ${object}'s .cmd line`);
  const cflags: string[] = [];
  for (let i = 1; i < compile.length; i++) {
    const w = compile[i]!;
    if (w.startsWith('-Wp,-MMD') || w.startsWith('-Wp,-MD')) continue;
    if (w === '-c') continue;
    if (w === '-o') {
      i++;
      continue;
    }
    if (/^-D_*KBUILD_/.test(w)) continue;
    if (!w.startsWith('-')) continue; // the source file (and nothing else is a bare word in a kbuild compile)
    // Two-word options: keep them together.
    if (['-include', '-I', '-isystem', '-D', '-U', '-x'].includes(w)) {
      cflags.push(w, compile[++i]!);
      continue;
    }
    cflags.push(w);
  }
  // The line ends with `-c -o OBJ SRC` (and objtool's `OBJ`): a line cut short (a concurrent rewrite) lacks them.
  const out = compile.indexOf('-o');
  if (!compile.includes('-c') || out < 0 || compile[out + 1] !== object) throw new Error(`${object}'s .cmd line is incomplete`);
  const tool = rest.find((p) => /objtool$/.test(p[0]!));
  if (tool && tool[tool.length - 1] !== object) throw new Error(`${object}'s .cmd line is incomplete (objtool)`);
  const objtoolArgs = tool ? tool.slice(1).filter((a) => a !== object && a !== '--module') : [];
  return { cc: compile[0]!, cflags, objtool: tool?.[0], objtoolArgs };
}

