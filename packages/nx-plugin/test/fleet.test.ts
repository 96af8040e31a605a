// Fleet updates in hotpatch.json and their graph: one project per (update, kernel) and per (update, kernel,
// object), each kernel's files at dist/.hotsplice/<id>/<abi>/, the update's own project building them all.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFleetFile, readHotpatchConfig } from '../src/config';
import { failureLine, kernelOutput, summaryText, taskOutputs } from '../src/executors/fleet';
import { fleetProject, fleetScope, pipelineProjects } from '../src/graph';

async function configFile(content: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hs-fleet-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, 'hotpatch.json'), content);
  return join(dir, 'hotpatch.json');
}

describe('hotpatch.json fleets', () => {
  it('takes "kernels" or a "fleet" file (one per line, # comments), never both, never with "kernel"', async () => {
    const listed = readHotpatchConfig(await configFile('{"id":"f","patches":["a.patch"],"kernels":["newest-bookworm","6.12.118+deb13-amd64"]}'));
    expect(listed.kernels).toEqual(['newest-bookworm', '6.12.118+deb13-amd64']);
    expect(listed.kernel.abi).toBe('newest-bookworm');
    const fromFile = readHotpatchConfig(await configFile('{"id":"f","patches":["a.patch"],"fleet":"fleet.txt"}', { 'fleet.txt': '# web servers\n6.1.0-57-amd64\n\nnewest-trixie  # new ones\n' }));
    expect(fromFile.kernels).toEqual(['6.1.0-57-amd64', 'newest-trixie']);
    expect(parseFleetFile('a\n # x\n b \n')).toEqual(['a', 'b']);
    const both = await configFile('{"id":"f","patches":["a.patch"],"kernels":["a"],"fleet":"x"}');
    expect(() => readHotpatchConfig(both)).toThrow(`${both}: give "kernels" or "fleet", not both`);
    const twice = await configFile('{"id":"f","patches":["a.patch"],"kernels":["newest","newest"]}');
    expect(() => readHotpatchConfig(twice)).toThrow(`${twice}: "kernels" names a kernel twice`);
    const mixed = await configFile('{"id":"f","patches":["a.patch"],"kernels":["newest"],"kernel":{"abi":"newest"}}');
    expect(() => readHotpatchConfig(mixed)).toThrow(`${mixed}: give "kernel" or a fleet ("kernels", "fleet"), not both`);
    const missing = await configFile('{"id":"f","patches":["a.patch"],"fleet":"nope.txt"}');
    expect(() => readHotpatchConfig(missing)).toThrow(`${missing}: cannot read the fleet file`);
    const empty = await configFile('{"id":"f","patches":["a.patch"],"kernels":[]}');
    expect(() => readHotpatchConfig(empty)).toThrow('"kernels" must be a non-empty list of kernel ABIs');
  });

  it('gives each kernel its own project, place and object projects; the update’s project builds the fleet', async () => {
    const config = readHotpatchConfig(await configFile('{"id":"f","patches":["a.patch"],"kernels":["newest-bookworm","newest-trixie"]}'));
    const scope = fleetScope('.', config, 'newest-trixie', '6.12.118+deb13-amd64');
    expect(scope).toEqual({ abi: 'newest-trixie', place: 'f/6.12.118+deb13-amd64', project: 'kernel-6.12.118_deb13-amd64', root: '.hotsplice-kernel-6.12.118_deb13-amd64' });
    const stamp = { tree: '/cache/6.12/src/linux-source-6.12', key: 'k', compiler: 'x86_64-linux-gnu-gcc-14', buildRoot: '/cache/buildroot/trixie-1' };
    const projects = pipelineProjects('.', config, ['fs/proc/version.o'], stamp, scope);
    const kernel = projects[scope.root]!;
    expect(kernel.name).toBe('kernel-6.12.118_deb13-amd64');
    expect(Object.keys(kernel.targets!)).not.toContain('hotpatch');
    expect(kernel.targets!.manifest!.options).toEqual({ id: 'f', place: 'f/6.12.118+deb13-amd64', abi: 'newest-trixie', root: '.' });
    // Its key names the kernel's own compiler in its build root; no input reads the virtual root's files.
    expect(kernel.targets!.manifest!.inputs).toContainEqual({
      runtime: 'bash tools/setup/tree-stamp.sh k /cache/6.12/src/linux-source-6.12 /cache/buildroot/trixie-1 x86_64-linux-gnu-gcc-14 fs/proc/version.o',
    });
    expect(JSON.stringify(kernel.targets!.manifest!.inputs)).not.toContain('{projectRoot}');
    expect(kernel.targets!.package!.outputs).toEqual(['{workspaceRoot}/dist/hotpatch/f/6.12.118+deb13-amd64']);
    const object = Object.values(projects).find((p) => p.name === 'kernel-6.12.118_deb13-amd64-fs-proc-version')!;
    expect(object.targets!.snap!.outputs).toEqual(['{workspaceRoot}/dist/.hotsplice/f/6.12.118+deb13-amd64/pre/fs/proc/version.o']);
    expect(object.tags).toContain('hotsplice:of:kernel-6.12.118_deb13-amd64');
    const own = fleetProject('.', config)['.']!;
    expect(own.name).toBe('kernel');
    expect(own.targets!.hotpatch).toMatchObject({ executor: '@hotsplice/nx-plugin:fleet', cache: false, options: { id: 'f', root: '.', kernels: ['newest-bookworm', 'newest-trixie'] } });
    expect(own.targets!.try!.options).toMatchObject({ id: 'f', abi: 'newest-bookworm', fleet: true });
  });

  it('leaves a plain update’s layout as it was (place = id, no place option)', async () => {
    const config = readHotpatchConfig(await configFile('{"id":"one","patches":["a.patch"]}'));
    const kernel = pipelineProjects('.', config, ['fs/proc/version.o'], { tree: '/t', key: 'k', compiler: 'gcc-12' })['.']!;
    expect(kernel.targets!.manifest!.options).toEqual({ id: 'one', abi: 'newest', root: '.' });
    expect(kernel.targets!.package!.outputs).toEqual(['{workspaceRoot}/dist/hotpatch/one']);
  });

  it('summarises each kernel’s package or the reason it has none', () => {
    const text = summaryText('f', [
      { request: 'newest-bookworm', abi: '6.1.0-57-amd64', suite: 'bookworm', version: '6.1.192-3', package: 'dist/hotpatch/f/6.1.0-57-amd64/hotsplice-f.tar.gz' },
      { request: '6.1.0-0-amd64', reason: 'prepare: unknown kernel ABI "6.1.0-0-amd64"' },
    ]);
    expect(text).toBe(
      'hotsplice fleet update f: 1 of 2 kernel(s) have a package\n' +
        '  6.1.0-57-amd64 (bookworm 6.1.192-3): dist/hotpatch/f/6.1.0-57-amd64/hotsplice-f.tar.gz\n' +
        '  6.1.0-0-amd64: no package: prepare: unknown kernel ABI "6.1.0-0-amd64"\n',
    );
    const nested = '> nx run kernel-x:manifest\nhotsplice: kernel 6.1.0-57-amd64 ready (/t)\n\x1b[31mhotsplice: fs/proc/version.c: hunk 1 does not apply\x1b[0m\n NX   Running target package failed\n';
    expect(failureLine(nested)).toBe('fs/proc/version.c: hunk 1 does not apply');
  });

  it('gives each kernel of one nested run-many the output of its own tasks, and so its own failure line', () => {
    const [trixie, cloud] = ['kernel-f-6.12.118_deb13-amd64', 'kernel-f-6.12.118_deb13-cloud-amd64'];
    const output = [
      ` NX   Running target package for 2 projects and 14 tasks they depend on:`,
      `> nx run ${trixie}:manifest`,
      'hotsplice: 1 affected object(s): fs/proc/version.o',
      `> nx run ${cloud}-fs-proc-version:diff`,
      '\x1b[31mhotsplice: fs/proc/version.o: compile failed: version.c:12: error: oops\x1b[0m',
      `> nx run ${trixie}-fs-proc-version:diff`,
      'f: fs/proc/version.o [vmlinux]: changed (version_proc_show)',
      `> nx run ${trixie}:package`,
      'hotsplice: package dist/hotpatch/f/6.12.118+deb13-amd64/hotsplice-f.tar.gz',
      '',
    ].join('\n');
    const blocks = taskOutputs(output);
    expect([...blocks.keys()]).toEqual([`${trixie}:manifest`, `${cloud}-fs-proc-version:diff`, `${trixie}-fs-proc-version:diff`, `${trixie}:package`]);
    expect(failureLine(kernelOutput(blocks, cloud, [trixie, cloud]))).toBe('fs/proc/version.o: compile failed: version.c:12: error: oops');
    expect(kernelOutput(blocks, trixie, [trixie, cloud])).not.toContain('oops');
  });
});
