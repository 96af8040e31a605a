import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHotpatchConfig } from '../src/config';
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

  it('infers the kernel project at the config’s folder with prepare and hotpatch targets', async () => {
    const file = await configFile('{"id":"fix_1","kernel":{"abi":"6.1.0-56-amd64"},"patches":["a.patch"]}');
    const root = join(file, '..');
    const [, fn] = createNodes;
    const results = await fn(['hotpatch.json'], undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
    const project = results[0][1].projects?.['.'];
    expect(project?.name).toBe('kernel');
    expect(Object.keys(project?.targets ?? {})).toEqual(['prepare', 'hotpatch']);
    expect(project?.targets?.hotpatch.dependsOn).toEqual(['prepare']);
    expect(project?.targets?.prepare.options.commands).toEqual([
      'bash tools/setup/ensure-system.sh',
      'node packages/cli/bin/hotsplice.js kernel prepare --abi 6.1.0-56-amd64',
    ]);
  });
});
