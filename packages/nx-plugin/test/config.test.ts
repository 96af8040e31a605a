import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHotpatchConfig, selected } from '../src/config';
import { pipelineProjects } from '../src/graph';

const STAMP = { tree: '/cache/kernel/src/linux-source-6.1', key: 'k1', compiler: 'gcc-12' };
import { createNodes } from '../src/index';

async function configFile(content: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'hs-cfg-')), 'hotpatch.json');
  await writeFile(file, content);
  return file;
}

describe('hotpatch.json', () => {
  it('defaults the kernel to the newest ABI', async () => {
    const file = await configFile('{"id":"fix_1","patches":["a.patch"]}');
    expect(readHotpatchConfig(file)).toEqual({ id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'], replace: false, fuzz: 0 });
    expect(readHotpatchConfig(await configFile('{"id":"x","patches":["a.patch"],"replace":true}')).replace).toBe(true);
    const bad = await configFile('{"id":"x","patches":["a.patch"],"replace":"yes"}');
    expect(() => readHotpatchConfig(bad)).toThrow(`${bad}: "replace" must be true or false`);
  });

  it('takes a compiler to use instead of the kernel\'s, forced only with one named', async () => {
    expect(readHotpatchConfig(await configFile('{"id":"x","patches":["a.patch"],"compiler":" /opt/gcc ","forceCompiler":true}'))).toMatchObject({ compiler: '/opt/gcc', forceCompiler: true });
    expect(readHotpatchConfig(await configFile('{"id":"x","patches":["a.patch"],"compiler":"gcc"}'))).not.toHaveProperty('forceCompiler');
    const lone = await configFile('{"id":"x","patches":["a.patch"],"forceCompiler":true}');
    expect(() => readHotpatchConfig(lone)).toThrow(`${lone}: "forceCompiler" forces the "compiler" it names; give "compiler"`);
    const empty = await configFile('{"id":"x","patches":["a.patch"],"compiler":""}');
    expect(() => readHotpatchConfig(empty)).toThrow(`${empty}: "compiler" must be a compiler's path or name`);
  });

  it('takes a fuzz of 0 to 3 context lines, and nothing else', async () => {
    expect(readHotpatchConfig(await configFile('{"id":"x","patches":["a.patch"],"fuzz":2}')).fuzz).toBe(2);
    for (const fuzz of ['4', '-1', '1.5', '"2"']) {
      const bad = await configFile(`{"id":"x","patches":["a.patch"],"fuzz":${fuzz}}`);
      expect(() => readHotpatchConfig(bad), fuzz).toThrow(`${bad}: "fuzz" must be a whole number of context lines from 0 to 3`);
    }
  });

  it('selects files of a Debian update by path or directory, and only of one', async () => {
    const config = readHotpatchConfig(await configFile('{"id":"x","debianUpdate":"6.1.192-3","debianFiles":["fs/ext4/","fs/nfsd/nfs4state.c"]}'));
    expect(config.debianFiles).toEqual(['fs/ext4/', 'fs/nfsd/nfs4state.c']);
    expect(['fs/ext4/mballoc.c', 'fs/ext4x/a.c', 'fs/nfsd/nfs4state.c', 'fs/nfsd/nfs4proc.c'].filter((p) => selected(config, p))).toEqual(['fs/ext4/mballoc.c', 'fs/nfsd/nfs4state.c']);
    expect(selected({}, 'anything.c')).toBe(true);
    const alone = await configFile('{"id":"x","patches":["a.patch"],"debianFiles":["fs/"]}');
    expect(() => readHotpatchConfig(alone)).toThrow(`${alone}: "debianFiles" selects files of a "debianUpdate"`);
    for (const files of ['[]', '["../etc/passwd"]', '["/abs.c"]', '"fs/"']) {
      const bad = await configFile(`{"id":"x","debianUpdate":"6.1.192-3","debianFiles":${files}}`);
      expect(() => readHotpatchConfig(bad), files).toThrow(`${bad}: "debianFiles" must be a list of tree paths (a directory ends in /)`);
    }
  });

  it('gives two hotpatch.json files with one id a failing hotpatch target each, naming the other file', async () => {
    const root = join(await configFile('{"id":"same","patches":["a.patch"]}'), '..');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'other'));
    await writeFile(join(root, 'other', 'hotpatch.json'), '{"id":"same","patches":["b.patch"]}');
    const [, fn] = createNodes;
    const results = await fn(['hotpatch.json', 'other/hotpatch.json'], undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
    const main = results[0][1].projects?.['.']?.targets?.hotpatch;
    const other = results[1][1].projects?.['other']?.targets?.hotpatch;
    expect(main?.executor).toBe('@hotsplice/nx-plugin:fail');
    expect(main?.options).toEqual({ message: 'hotpatch.json: id "same" is also the id of other/hotpatch.json' });
    expect(other?.options).toEqual({ message: 'other/hotpatch.json: id "same" is also the id of hotpatch.json' });
  });

  it('names the file and the field on bad input', async () => {
    const bad = await configFile('{"id":"Bad-Id","patches":[]}');
    expect(() => readHotpatchConfig(bad)).toThrow(`${bad}: "id" must be lower-case letters, digits and '_'`);
    const broken = await configFile('{"id":');
    expect(() => readHotpatchConfig(broken)).toThrow(new RegExp(`^${broken}: `));
  });

  it('on a fresh machine infers only prepare, plan and a hotpatch that runs Nx again after them', async () => {
    const file = await configFile('{"id":"fix_1","kernel":{"abi":"6.1.0-56-amd64"},"patches":["a.patch"]}');
    const root = join(file, '..');
    const saved = process.env.HOTSPLICE_CACHE;
    process.env.HOTSPLICE_CACHE = join(root, 'empty-cache');
    try {
      const [, fn] = createNodes;
      const results = await fn(['hotpatch.json'], undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
      const project = results[0][1].projects?.['.'];
      expect(project?.name).toBe('kernel');
      expect(Object.keys(project?.targets ?? {})).toEqual(['prepare', 'plan', 'hotpatch', 'try']);
      expect(project?.targets?.try.dependsOn).toEqual(['hotpatch']);
      expect(project?.targets?.hotpatch.executor).toBe('@hotsplice/nx-plugin:renest');
      expect(project?.targets?.hotpatch.dependsOn).toEqual(['plan']);
      expect(project?.targets?.plan).toMatchObject({ executor: '@hotsplice/nx-plugin:plan', cache: false, dependsOn: ['prepare'] });
      expect(project?.targets?.hotpatch.options.target).toBe('kernel:package');
      expect(project?.targets?.prepare.executor).toBe('@hotsplice/nx-plugin:prepare');
      expect(project?.targets?.prepare.options).toEqual({ abi: '6.1.0-56-amd64' });
      expect(project?.targets?.prepare.inputs?.[0]).toEqual({ runtime: 'bash tools/setup/prepared-stamp.sh' });
    } finally {
      if (saved === undefined) delete process.env.HOTSPLICE_CACHE;
      else process.env.HOTSPLICE_CACHE = saved;
    }
  });

  it('with a prepared kernel infers one project per affected object with its snap and diff targets', () => {
    const config = { id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'] };
    const projects = pipelineProjects('.', config, ['fs/proc/version.o', 'fs/proc/meminfo.o', 'kernel/sched/core.o'], STAMP);
    expect(Object.keys(projects).sort()).toEqual([
      '.',
      '.hotsplice-kernel/fs/proc/meminfo.o',
      '.hotsplice-kernel/fs/proc/version.o',
      '.hotsplice-kernel/kernel/sched/core.o',
    ]);
    const version = projects['.hotsplice-kernel/fs/proc/version.o'];
    expect(version.name).toBe('kernel-fs-proc-version');
    expect(Object.keys(version.targets!)).toEqual(['snap', 'diff']);
    expect(version.targets!.diff.dependsOn).toEqual(['snap', { projects: ['kernel'], target: 'manifest' }]);
    expect(version.targets!.snap.inputs?.[0]).toEqual({ dependentTasksOutputFiles: '**/hash/fs/proc/version.o.pre' });
    const kernel = projects['.'];
    expect(Object.keys(kernel.targets!)).toEqual(['prepare', 'manifest', 'collect', 'link', 'verify-pre', 'package', 'hotpatch', 'try']);
    expect(kernel.targets!.try.dependsOn).toEqual(['package']);
    expect(kernel.targets!.try.cache).toBe(false);
    // The manifest is cached, keyed by what it reads of the tree (tools/setup/tree-stamp.sh) and of the update.
    expect(kernel.targets!.manifest.cache).toBe(true);
    expect(kernel.targets!.manifest.inputs).toContainEqual({
      runtime: 'bash tools/setup/tree-stamp.sh k1 /cache/kernel/src/linux-source-6.1 - gcc-12 fs/proc/version.o fs/proc/meminfo.o kernel/sched/core.o',
    });
    expect(kernel.targets!.collect.dependsOn).toEqual([{ projects: ['tag:hotsplice:of:kernel'], target: 'diff' }]);
    expect(version.tags).toEqual(['hotsplice:object', 'hotsplice:of:kernel']);
  });

  it('puts the plugin’s own executors into the cache key of every task that runs one', () => {
    const projects = pipelineProjects('.', { id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'] }, ['fs/proc/version.o'], STAMP);
    const cached = Object.values(projects).flatMap((p) =>
      Object.entries(p.targets!).filter(([, t]) => t.cache && t.executor?.startsWith('@hotsplice/nx-plugin:')),
    );
    expect(cached.map(([name]) => name).sort()).toEqual(['collect', 'diff', 'link', 'manifest', 'package', 'prepare', 'snap', 'verify-pre']);
    for (const [name, target] of cached) expect(target.inputs, name).toContain('{workspaceRoot}/packages/nx-plugin/src/**/*');
  });

  it('keeps the update’s own project the same whatever objects the patch touches and whatever "check" says', () => {
    // Nx hashes a project's whole configuration into each of its tasks: a change here would re-run prepare & co.
    const one = pipelineProjects('.', { id: 'fix_1', kernel: { abi: 'newest' }, patches: ['a.patch'] }, ['fs/proc/version.o'], STAMP);
    const two = pipelineProjects(
      '.',
      { id: 'fix_1', kernel: { abi: 'newest' }, patches: ['b.patch'], check: 'cat /proc/version' },
      ['fs/proc/meminfo.o', 'fs/proc/version.o'],
      { ...STAMP, key: 'k2' },
    );
    expect(JSON.stringify(hashedConfig(two['.']!))).toBe(JSON.stringify(hashedConfig(one['.']!)));
    // The objects and the update's key are only in the manifest's own inputs, which Nx hashes for that task alone.
    expect(JSON.stringify(two['.']!.targets!.manifest!.inputs)).not.toBe(JSON.stringify(one['.']!.targets!.manifest!.inputs));
    expect(Object.keys(two)).toHaveLength(3);
  });
});

/**
 * The part of a project's configuration Nx hashes into each of its tasks (nx's native hash_project_config: the
 * root, the tags and, per target, its executor, outputs, options, configurations and parallelism; not its inputs).
 */
function hashedConfig(project: { root?: string; tags?: string[]; targets?: Record<string, object> }) {
  const targets = Object.entries(project.targets ?? {}).map(([name, t]) => {
    const { executor, outputs, options, configurations, parallelism } = t as Record<string, unknown>;
    return [name, executor, outputs, options, configurations, parallelism];
  });
  return { root: project.root, tags: project.tags, targets };
}
