import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/** This repository (the Nx plugin's bundle names it in HOTSPLICE_REPO_ROOT, since its __dirname is elsewhere). */
export const REPO_ROOT = process.env.HOTSPLICE_REPO_ROOT ?? join(__dirname, '..', '..', '..');
const ENTRY = join(REPO_ROOT, 'packages', 'cli', 'src', 'target-bin.ts');

/**
 * Bundle the target CLI (apply / undo / view / status) into one self-contained CommonJS file (no node_modules), the
 * form that ships to a target machine. Written only when its content changes, so its mtime is stable across runs.
 */
export async function bundleCli(outFile = join(REPO_ROOT, 'dist', 'cli', 'hotsplice-target.cjs')): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    // Debian 12's nodejs is 18: hotsplice-tools depends on it.
    target: 'node18',
    format: 'cjs',
    write: false,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const previous = await readFile(outFile).catch(() => undefined);
  if (!previous?.equals(code)) {
    await mkdir(dirname(outFile), { recursive: true });
    await writeFile(outFile, code, { mode: 0o755 });
  }
  return outFile;
}
