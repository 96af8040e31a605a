import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { objectCflags } from '@hotsplice/kernel';
import { cmdFileOf, parseCmdFile } from './deps';
import { parseKbuildCmd } from './kbuild-cmd';

/**
 * kbuild's recorded command for one object (`cmd_X.o := gcc … ; objtool … X.o` in `.X.o.cmd`, written by
 * scripts/basic/fixdep after the compile), if that command is the one make would run now: a complete line, for
 * this object, with our compiler and flags, recorded after the last config change (a new config can change the
 * flags kbuild generates). Anything else is left to make.
 */
export async function recordedCommand(tree: string, object: string, compiler: string): Promise<string | undefined> {
  return (await readRecord(tree, object, compiler))?.command;
}

/**
 * The recorded command of an object make itself has just found up to date (its if_changed compared the command
 * with the one it would run): the conditions of recordedCommand but the config's age, which make's own check
 * (the per-symbol include/config files the `.cmd` lists) already covers. A config written again unchanged (a
 * second `olddefconfig`) would otherwise leave such objects out of kbuild's plan.
 */
export async function checkedCommand(tree: string, object: string, compiler: string): Promise<string | undefined> {
  return (await readRecord(tree, object, compiler, false))?.command;
}

/** The `.cmd` file's text and its command, when recordedCommand's conditions hold. */
async function readRecord(tree: string, object: string, compiler: string, afterConfig = true): Promise<{ text: string; command: string } | undefined> {
  const text = await readFile(join(tree, cmdFileOf(object)), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const line = /^(?:saved)?cmd_(\S+) := (.*)$/m.exec(text); // savedcmd_ since 6.2 (deps.ts)
  if (!line || line[1] !== object) return undefined;
  const command = line[2]!;
  if (!command.startsWith(`${compiler} `) || !objectCflags(tree).every((flag) => command.includes(flag))) return undefined;
  try {
    parseKbuildCmd(text); // throws on a line cut short
    const [recorded, config] = await Promise.all([stat(join(tree, cmdFileOf(object))), stat(join(tree, 'include/config/auto.conf'))]);
    return !afterConfig || recorded.mtimeMs >= config.mtimeMs ? { text, command } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * kbuild's own up-to-date test for one object, done without make (whose start costs ~2 s in this tree): the
 * object has a valid recorded command and is newer than every file its `.cmd` lists and than the config.
 * Anything else is left to make.
 */
export async function isUpToDate(tree: string, object: string, compiler: string): Promise<boolean> {
  const record = await readRecord(tree, object, compiler);
  if (!record) return false;
  try {
    const built = (await stat(join(tree, object))).mtimeMs;
    const inputs = [...parseCmdFile(record.text).deps, 'include/config/auto.conf', cmdFileOf(object)];
    for (const input of inputs) {
      // kbuild writes the .cmd right after the object: allow it to be a little newer.
      const slack = input === cmdFileOf(object) ? 2000 : 0;
      if ((await stat(join(tree, input))).mtimeMs > built + slack) return false;
    }
    return true;
  } catch {
    return false;
  }
}
