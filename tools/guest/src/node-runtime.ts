import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { CpioEntry } from './cpio';

/** Parse `ldd` output into the absolute paths of the libraries and the dynamic loader. */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const arrow = line.match(/=>\s+(\/\S+)/);
    const bare = line.match(/^\s*(\/\S+)\s+\(/);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) paths.add(path);
  }
  return [...paths];
}

/**
 * This machine's node binary and every shared library it links (design.md §9: ~106 MB uncompressed,
 * node starts in ~1 s under TCG). Libraries keep their host paths so the loader finds them.
 */
export function nodeRuntimeEntries(nodeBinary = process.execPath): CpioEntry[] {
  const libs = parseLdd(execFileSync('ldd', [nodeBinary], { encoding: 'utf8' }));
  return [
    { kind: 'file', path: 'usr/local/bin/node', source: realpathSync(nodeBinary), mode: 0o755 },
    ...libs.map((lib): CpioEntry => ({ kind: 'file', path: lib, source: realpathSync(lib), mode: 0o755 })),
  ];
}
