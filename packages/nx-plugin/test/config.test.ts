import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHotpatchConfig } from '../src/config';
import { pipelineProjects } from '../src/graph';
import { createNodes } from '../src/index';

async function configFile(content: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'hs-cfg-')), 'hotpatch.json');
  await writeFile(file, content);
  return file;
}

describe('hotpatch.json', () => {
  it('defaults the kernel to the newest ABI', async () => {
    const file = await configFile('{"id":"fix_1","patches":["a.patch"]}');
    expect(readHotpatchConfig(file)).toEqual({ id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'] });
  });

  it('names the file and the field on bad input', async () => {
    const bad = await configFile('{"id":"Bad-Id","patches":[]}');
    expect(() => readHotpatchConfig(bad)).toThrow(`${bad}: "id" must be lower-case letters, digits and '_'`);
    const broken = await configFile('{"id":');
    expect(() => readHotpatchConfig(broken)).toThrow(new RegExp(`^${broken}: `));
  });

  it('on a fresh machine infers only prepare and a hotpatch that runs Nx again after preparing', async () => {
    const file = await configFile('{"id":"fix_1","kernel":{"abi":"6.1.0-56-amd64"},"patches":["a.patch"]}');
    const root = join(file, '..');
    const saved = process.env.HOTSPLICE_CACHE;
    process.env.HOTSPLICE_CACHE = join(root, 'empty-cache');
    try {
      const [, fn] = createNodes;
      const results = await fn(['hotpatch.json'], undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
      const project = results[0][1].projects?.['.'];
      expect(project?.name).toBe('kernel');
      expect(Object.keys(project?.targets ?? {})).toEqual(['prepare', 'hotpatch']);
      expect(project?.targets?.hotpatch.executor).toBe('@hotsplice/nx-plugin:renest');
      expect(project?.targets?.hotpatch.dependsOn).toEqual(['prepare']);
      expect(project?.targets?.prepare.options.commands).toEqual([
        'bash tools/setup/ensure-system.sh',
        'node packages/cli/bin/hotsplice.js kernel prepare --abi 6.1.0-56-amd64',
      ]);
    } finally {
      if (saved === undefined) delete process.env.HOTSPLICE_CACHE;
      else process.env.HOTSPLICE_CACHE = saved;
    }
  });

  it('with a prepared kernel infers one project per kernel directory with snap/diff per affected object', () => {
    const config = { id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'] };
    const projects = pipelineProjects('.', config, ['fs/proc/version.o', 'fs/proc/meminfo.o', 'kernel/sched/core.o']);
    expect(Object.keys(projects).sort()).toEqual(['.', '.hotsplice-kernel/fs/proc', '.hotsplice-kernel/kernel/sched']);
    const proc = projects['.hotsplice-kernel/fs/proc'];
    expect(proc.name).toBe('kernel-fs-proc');
    expect(Object.keys(proc.targets!)).toEqual(['snap-version', 'diff-version', 'snap-meminfo', 'diff-meminfo']);
    expect(proc.targets!['diff-version'].dependsOn).toEqual(['snap-version', { projects: ['kernel'], target: 'manifest' }]);
    expect(proc.targets!['snap-version'].inputs?.[0]).toEqual({ dependentTasksOutputFiles: '**/hash/fs/proc/version.o.pre' });
    const kernel = projects['.'];
    expect(Object.keys(kernel.targets!)).toEqual(['prepare', 'manifest', 'collect', 'link', 'package', 'hotpatch']);
    expect(kernel.targets!.manifest.cache).toBe(false);
    expect(kernel.targets!.collect.dependsOn).toEqual([
      { projects: ['kernel-fs-proc'], target: 'diff-version' },
      { projects: ['kernel-fs-proc'], target: 'diff-meminfo' },
      { projects: ['kernel-kernel-sched'], target: 'diff-core' },
    ]);
  });
});
