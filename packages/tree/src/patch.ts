import { UserError } from '@hotsplice/kernel';

/** One file a unified diff touches, with paths relative to the tree (after stripping one component, like -p1). */
export interface PatchedFile {
  path: string;
  /** The file does not exist before the patch (--- /dev/null). */
  created: boolean;
  /** The file does not exist after the patch (+++ /dev/null). */
  deleted: boolean;
  /** First line of each hunk header, for error messages ("@@ -13,6 +13,7 @@"). */
  hunks: string[];
}

/** Files the patch pipeline cannot turn into a livepatch: assembly, build files, configuration. */
const REFUSED: Array<[RegExp, string]> = [
  [/\.S$/, 'assembly (.S) cannot be livepatched'],
  [/(^|\/)(Makefile|Kbuild)[^/]*$/, 'build files change how objects are built, not code'],
  [/(^|\/)Kconfig[^/]*$/, 'configuration changes need a new kernel'],
];

function stripComponent(path: string): string {
  const clean = path.split('\t')[0].trim();
  return clean === '/dev/null' ? clean : clean.replace(/^[^/]+\//, '');
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/** Parse a unified diff (git or plain `diff -u`) into the files it touches; hunk bodies are skipped by count. */
export function parsePatch(text: string, name = 'patch'): PatchedFile[] {
  const files: PatchedFile[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const hunk = HUNK.exec(lines[i]);
    if (hunk && files.length) {
      files[files.length - 1].hunks.push(hunk[0]);
      let oldLeft = Number(hunk[1] ?? 1);
      let newLeft = Number(hunk[2] ?? 1);
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const body = lines[++i];
        if (body.startsWith('\\')) continue; // "\ No newline at end of file"
        if (body.startsWith('-')) oldLeft--;
        else if (body.startsWith('+')) newLeft--;
        else {
          oldLeft--;
          newLeft--;
        }
      }
      continue;
    }
    if (!lines[i].startsWith('--- ') || !lines[i + 1]?.startsWith('+++ ')) continue;
    const before = stripComponent(lines[i].slice(4));
    const after = stripComponent(lines[i + 1].slice(4));
    const path = after === '/dev/null' ? before : after;
    if (path === '/dev/null' || path.split('/').includes('..') || path.startsWith('/')) {
      throw new UserError(`${name}: unsafe path "${path}"`);
    }
    files.push({ path, created: before === '/dev/null', deleted: after === '/dev/null', hunks: [] });
    i++;
  }
  if (files.length === 0) throw new UserError(`${name}: no file changes found (empty patch?)`);
  const noHunks = files.find((f) => f.hunks.length === 0);
  if (noHunks) throw new UserError(`${name}: ${noHunks.path} has no hunks (binary or rename-only change?)`);
  for (const file of files) {
    // A deleted file's code stays in the running kernel: livepatch replaces functions, it cannot remove them.
    if (file.deleted) throw new UserError(`${name}: deletes ${file.path}: removing code cannot be live-patched`);
    const refusal = REFUSED.find(([re]) => re.test(file.path));
    if (refusal) throw new UserError(`${name}: ${file.path}: ${refusal[1]}`);
  }
  return files;
}

/**
 * Split a patch into one unified diff per file it touches, keyed by tree path: what one object's cache key takes
 * from a patch is only the part that touches its own source and headers.
 */
export function splitPatch(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  let current: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const after = stripComponent(lines[i + 1].slice(4));
      current = after === '/dev/null' ? stripComponent(lines[i].slice(4)) : after;
    }
    if (current !== undefined) out.set(current, `${out.get(current) ?? ''}${lines[i]}\n`);
  }
  // The same change reads the same whether it ends the patch file or is followed by another file's.
  for (const [path, diff] of out) out.set(path, `${diff.replace(/\n+$/, '')}\n`);
  return out;
}

/** Per changed file, every patch's change to it (splitPatch of each patch, joined in patch order). */
export function changesByFile(patches: Array<{ text: string }>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of patches) for (const [path, diff] of splitPatch(p.text)) out.set(path, `${out.get(path) ?? ''}${diff}`);
  return out;
}
