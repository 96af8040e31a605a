import { describe, expect, it } from 'vitest';
import { parsePatch } from '../src/patch';

const GIT_PATCH = `From 1234 Mon Sep 17 00:00:00 2001
Subject: [PATCH] proc: mark version

diff --git a/fs/proc/version.c b/fs/proc/version.c
index 02e3c3c..5b1a7d2 100644
--- a/fs/proc/version.c
+++ b/fs/proc/version.c
@@ -13,6 +13,7 @@ static int version_proc_show(struct seq_file *m, void *v)
 		utsname()->sysname,
 		utsname()->release,
 		utsname()->version);
+	seq_puts(m, "x\\n");
 	return 0;
 }
 
@@ -20,3 +21,2 @@
--- a comment line that starts like a header
+++ and an added line that looks like one
 x
diff --git a/include/linux/new.h b/include/linux/new.h
new file mode 100644
--- /dev/null
+++ b/include/linux/new.h
@@ -0,0 +1 @@
+#define NEW 1
`;

describe('patch parsing', () => {
  it('lists touched files with their hunks, skipping hunk bodies that look like headers', () => {
    expect(parsePatch(GIT_PATCH)).toEqual([
      {
        path: 'fs/proc/version.c',
        created: false,
        deleted: false,
        hunks: ['@@ -13,6 +13,7 @@', '@@ -20,3 +21,2 @@'],
      },
      { path: 'include/linux/new.h', created: true, deleted: false, hunks: ['@@ -0,0 +1 @@'] },
    ]);
  });

  it('refuses an empty patch', () => {
    expect(() => parsePatch('just words\n', 'fix.patch')).toThrow('fix.patch: no file changes found (empty patch?)');
  });

  it.each([
    ['arch/x86/entry/entry_64.S', 'assembly (.S) cannot be livepatched'],
    ['fs/proc/Makefile', 'build files change how objects are built, not code'],
    ['init/Kconfig', 'configuration changes need a new kernel'],
  ])('refuses a change to %s', (path, reason) => {
    const patch = `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-a\n+b\n`;
    expect(() => parsePatch(patch, 'p')).toThrow(`p: ${path}: ${reason}`);
  });

  it('refuses a patch that deletes a file (git or plain diff), naming it', () => {
    const git = 'diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c\ndeleted file mode 100644\n--- a/fs/proc/cmdline.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n';
    expect(() => parsePatch(git, 'rm.patch')).toThrow('rm.patch: deletes fs/proc/cmdline.c: removing code cannot be live-patched');
  });

  it('refuses paths that escape the tree', () => {
    expect(() => parsePatch('--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n', 'p')).toThrow(
      'p: unsafe path "../etc/passwd"',
    );
  });
});

describe('line map from a patch', () => {
  it('moves lines below each hunk by the lines it adds and removes', async () => {
    const { lineMapFromPatch } = await import('../src/line-map');
    const patch = `--- a/f.c
+++ b/f.c
@@ -10,4 +10,5 @@
 a
 b
+c
 d
 e
@@ -30,3 +31,2 @@
 x
-y
 z
`;
    const map = lineMapFromPatch(patch, 'f.c');
    expect([1, 11, 12, 13, 29, 30, 31, 32, 40].map(map)).toEqual([1, 11, 13, 14, 30, 31, undefined, 32, 40]);
    expect(lineMapFromPatch(patch, 'other.c')(12)).toBe(12);
  });
});
