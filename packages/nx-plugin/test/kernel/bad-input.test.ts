import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO, atRest, create, scratchWorkspace, writeConfig, nx } from './workspace';

const kernel = inject('kernel');

const EXAMPLE = readFileSync(join(REPO, 'examples', 'proc-version-marker.patch'), 'utf8');
const MEMINFO = readFileSync(join(REPO, 'bench', 'patches', 'proc-meminfo-field.patch'), 'utf8');
/** The example patch with its added line cut short: `seq_puts(m, "…"` with no `);`. */
const BROKEN_VERSION = EXAMPLE.replace('livepatched by proc_version_marker\\n");', 'broken\\n"');
const BROKEN_MEMINFO = MEMINFO.replace('1\\n");', '1\\n"');

const treeFile = (path: string) => atRest(kernel.sourceTree, () => createHash('sha256').update(readFileSync(join(kernel.sourceTree, path))).digest('hex'));

describe('bad input to the pipeline: one clear line, a non-zero exit, the tree untouched', () => {
  let ws: string;
  beforeAll(() => {
    ws = scratchWorkspace();
  });

  it('names the hunk of a patch that does not apply, and leaves the tree as it was', async () => {
    const before = await treeFile('fs/proc/version.c');
    const bad = readFileSync(join(REPO, 'examples', 'proc-version-marker.patch'), 'utf8').replace('utsname()->version);', 'utsname()->versions);');
    writeFileSync(join(ws, 'stale.patch'), bad);
    const r = create(ws, '--patch', join(ws, 'stale.patch'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hotsplice: ${join(ws, 'stale.patch')} does not apply to the kernel tree: fs/proc/version.c: Hunk #1 FAILED at 13. (tree untouched)`);
    expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(await treeFile('fs/proc/version.c')).toBe(before);
  });

  it('refuses an empty patch before starting Nx', () => {
    writeFileSync(join(ws, 'empty.patch'), '');
    const r = create(ws, '--patch', join(ws, 'empty.patch'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hotsplice: ${join(ws, 'empty.patch')}: no file changes found (empty patch?)\n`);
  });

  it.each([
    ['arch/x86/entry/entry_64.S', 'assembly (.S) cannot be livepatched'],
    ['init/Kconfig', 'configuration changes need a new kernel'],
    ['fs/proc/Makefile', 'build files change how objects are built, not code'],
  ])('refuses a patch to %s', (path, reason) => {
    writeFileSync(join(ws, 'refused.patch'), `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`);
    const r = create(ws, '--patch', join(ws, 'refused.patch'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`hotsplice: ${join(ws, 'refused.patch')}: ${path}: ${reason}\n`);
  });

  it('names the ABIs apt offers when hotpatch.json asks for an unknown one', () => {
    writeConfig(ws, 'bad_abi', ['examples/proc-version-marker.patch']);
    const config = JSON.parse(readFileSync(join(ws, 'hotpatch.json'), 'utf8'));
    writeFileSync(join(ws, 'hotpatch.json'), JSON.stringify({ ...config, kernel: { abi: '6.1.0-0-amd64' } }));
    const r = nx(ws, ['run', 'kernel:hotpatch']);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/hotsplice: unknown kernel ABI "6\.1\.0-0-amd64"; apt offers: 6\.1\.0-\d+-amd64/);
  });

  it('ends a comment-only patch with "no functional change" and exit code 3', () => {
    const text = `--- a/fs/proc/version.c
+++ b/fs/proc/version.c
@@ -9,6 +9,7 @@
 
 static int version_proc_show(struct seq_file *m, void *v)
 {
+	/* hotsplice: a comment changes no code */
 	seq_printf(m, linux_proc_banner,
 		utsname()->sysname,
 		utsname()->release,
`;
    writeFileSync(join(ws, 'comment.patch'), text);
    const r = create(ws, '--patch', join(ws, 'comment.patch'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('hotsplice: no functional change: fs/proc/version.o');
  });

  describe('a patch that does not compile fails the create with gcc’s own error, whatever ran before', () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(ws, name), text);
      return join(ws, name);
    };
    const packageOf = (id: string) => join(ws, 'dist', 'hotpatch', id, `hotsplice-${id}.tar.gz`);

    it('a syntax error alone: exit 1 naming the object and the line, not "unchanged"', () => {
      expect(BROKEN_VERSION).not.toBe(EXAMPLE);
      const r = create(ws, '--patch', write('syntax.patch', BROKEN_VERSION), '--id', 'syntax_only');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/hotsplice: fs\/proc\/version\.o does not compile:\nfs\/proc\/version\.c:16:\d+: error: expected ‘\)’ before ‘return’/);
      expect(r.stderr).not.toContain('no functional change');
      expect(existsSync(packageOf('syntax_only'))).toBe(false);
    });

    it('a broken file among good ones: exit 1 naming the broken object, no package of the good one', () => {
      const r = create(ws, '--patch', write('mixed.patch', EXAMPLE + BROKEN_MEMINFO), '--id', 'mixed_files');
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/hotsplice: fs\/proc\/meminfo\.o does not compile:\nfs\/proc\/meminfo\.c:\d+:\d+: error: /);
      expect(existsSync(packageOf('mixed_files'))).toBe(false);
    });

    it('a good patch, then a broken one with the same id: the second exits 1 and leaves no package', () => {
      const good = create(ws, '--patch', write('good.patch', EXAMPLE), '--id', 'reused_id');
      expect(good.code, good.stderr).toBe(0);
      expect(existsSync(packageOf('reused_id'))).toBe(true);
      const broken = create(ws, '--patch', write('broken.patch', BROKEN_VERSION), '--id', 'reused_id', '--json');
      expect(broken.code, broken.stderr).toBe(1);
      expect(broken.stderr).toContain('hotsplice: fs/proc/version.o does not compile:');
      expect(JSON.parse(broken.stdout)).toMatchObject({ id: 'reused_id', exitCode: 1, package: null, markers: [] });
      expect(existsSync(packageOf('reused_id'))).toBe(false);
      expect(existsSync(join(ws, 'dist', '.hotsplice', 'reused_id', 'collect.json'))).toBe(false);
    });
  });
});
