'use strict';
// Nx forks a process per executor batch and loads the plugin in a worker: transpiling the TypeScript sources each
// time (swc-node) costs ~0.5 s per process. Instead, the plugin and its executors are one esbuild bundle, rebuilt
// (~0.3 s) only when a source file of the workspace changes, and cached under node_modules/.cache.
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, renameSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..', '..');
// Bundled code cannot find the repository from its own __dirname (it lives in node_modules/.cache).
process.env.HOTSPLICE_REPO_ROOT ??= ROOT;
const ENTRIES = ['index', 'executors/prepare', 'executors/manifest', 'executors/snap', 'executors/diff', 'executors/collect', 'executors/link', 'executors/verify-pre', 'executors/package', 'executors/renest', 'executors/fail', 'executors/try'];

/** A fingerprint of every TypeScript source the plugin can reach (paths, sizes, mtimes: ~5 ms). */
function fingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const s = statSync(path);
        hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const group of ['packages', 'tools']) {
    for (const pkg of readdirSync(join(ROOT, group))) if (existsSync(join(ROOT, group, pkg, 'src'))) walk(join(ROOT, group, pkg, 'src'));
  }
  return hash.digest('hex').slice(0, 16);
}

let outDir;
function bundleDir() {
  if (outDir) return outDir;
  const dir = join(ROOT, 'node_modules', '.cache', 'hotsplice-nx', fingerprint());
  if (!existsSync(join(dir, 'done'))) {
    const temp = `${dir}.${process.pid}`;
    require('esbuild').buildSync({
      entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, join(ROOT, 'packages', 'nx-plugin', 'src', `${e}.ts`)])),
      outdir: temp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['nx', '@nx/devkit', 'esbuild'],
      logLevel: 'error',
    });
    require('node:fs').writeFileSync(join(temp, 'done'), '');
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(temp, dir);
    } catch {
      // another process finished the same bundle first
      require('node:fs').rmSync(temp, { recursive: true, force: true });
    }
    // Keep the newest few bundles (other checkouts or branches may still use them).
    const parent = join(dir, '..');
    const old = readdirSync(parent).map((name) => ({ name, t: statSync(join(parent, name)).mtimeMs })).sort((a, b) => b.t - a.t).slice(4);
    for (const { name } of old) require('node:fs').rmSync(join(parent, name), { recursive: true, force: true });
  }
  return (outDir = dir);
}

module.exports = (entry) => require(join(bundleDir(), `${entry}.js`));
