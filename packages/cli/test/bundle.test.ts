// The workspace CLI runs from the workspace bundle (tools/setup/bundle.js), rebuilt when a source changes; the
// TypeScript path stays for development.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchWorkspace } from '../../nx-plugin/test/kernel/workspace';
import { BIN } from './helpers/run-cli';

const run = (bin: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('the workspace bundle', () => {
  it('is rebuilt when a source changes, and only then', () => {
    const ws = scratchWorkspace();
    const bin = join(ws, 'packages', 'cli', 'bin', 'hotsplice.js');
    const cache = join(ws, 'node_modules', '.cache', 'hotsplice-bundle');
    const first = run(bin, ['--version']);
    expect([first.status, first.stdout]).toEqual([0, 'hotsplice 0.1.0\n']);
    const built = readdirSync(cache);
    // The same sources: the same bundle.
    expect(run(bin, ['--version']).stdout).toBe('hotsplice 0.1.0\n');
    expect(readdirSync(cache)).toEqual(built);
    // A source changes: the next start builds a new bundle and runs it.
    const pkg = join(ws, 'packages', 'cli', 'package.json');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace('"version": "0.1.0"', '"version": "0.1.1"'));
    expect(run(bin, ['--version']).stdout).toBe('hotsplice 0.1.1\n');
    expect(readdirSync(cache).filter((d) => !built.includes(d))).toHaveLength(1);
  });

  it('HOTSPLICE_FROM_SOURCE=1 runs the TypeScript sources, with the same answers', () => {
    for (const args of [['--version'], ['diff', '--help'], ['frobnicate']]) {
      const bundled = run(BIN, args);
      const source = run(BIN, args, { HOTSPLICE_FROM_SOURCE: '1' });
      expect([source.status, source.stdout, source.stderr]).toEqual([bundled.status, bundled.stdout, bundled.stderr]);
    }
  });
});
