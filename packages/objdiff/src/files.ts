import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { ET_REL, ElfError, ElfFile, parseElf } from '@hotsplice/elf';
import { UserError, naming } from '@hotsplice/kernel';
import { diffObjects } from './diff';
import { checkDiffable, checkParent, checkSameSource } from './inputs';
import { parentSymbols } from './klp';
import { ObjectModel } from './model';
import type { DiffOptions, DiffReport, ParentSymbol } from './types';

/**
 * The symbol table of the ELF a patch binds to (vmlinux or the module `objname` names, checked by checkParent),
 * read without loading the file (vmlinux is 633 MB).
 */
export function readParent(path: string, objname?: string): ParentSymbol[] {
  let file: ElfFile | undefined;
  try {
    file = ElfFile.open(path);
    checkParent(path, file, objname);
    if (file.header.type !== ET_REL) return parentSymbols(file.symbols());
    // A module (a few MB): read whole, so same-named locals can be told apart by content (parent-match.ts).
    const elf = parseElf(readFileSync(path));
    return parentSymbols(elf.symbols, 'table', new ObjectModel(elf));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    file?.close();
  }
}

export interface DiffJob {
  pre: string;
  post: string;
  out: string;
  oldOut?: string;
  objname?: string;
  object?: string;
  lineMap?: DiffOptions['lineMap'];
}

export interface DiffJobResult {
  job: DiffJob;
  report: DiffReport;
  /** 0: change found, outputs written; 3: no functional change; 1: refused. */
  exitCode: 0 | 1 | 3;
}

async function readObject(path: string) {
  const bytes = await readFile(path).catch(() => {
    throw new UserError(`cannot read ${path}`);
  });
  let elf;
  try {
    elf = parseElf(bytes);
  } catch (err) {
    if (err instanceof ElfError) throw new UserError(`${path}: ${err.message}`);
    throw err;
  }
  checkDiffable(path, elf);
  return elf;
}

/**
 * Diff many object pairs in one process (what the Nx diff executor calls); the parent's symbols and the
 * exports are read once and shared.
 */
export async function diffFiles(jobs: DiffJob[], shared: Pick<DiffOptions, 'parent' | 'exported'> = {}): Promise<DiffJobResult[]> {
  const results: DiffJobResult[] = [];
  for (const job of jobs) {
    const [pre, post] = await Promise.all([readObject(job.pre), readObject(job.post)]);
    checkSameSource(job.pre, pre, job.post, post);
    const { report, newCode, oldCode } = diffObjects(pre, post, { ...shared, objname: job.objname, object: job.object ?? job.post, lineMap: job.lineMap });
    if (report.refused.length) {
      results.push({ job, report, exitCode: 1 });
      continue;
    }
    if (!newCode) {
      results.push({ job, report, exitCode: 3 });
      continue;
    }
    await writeFile(job.out, newCode).catch(naming(job.out));
    if (job.oldOut && oldCode) await writeFile(job.oldOut, oldCode).catch(naming(job.oldOut));
    results.push({ job, report, exitCode: 0 });
  }
  return results;
}
