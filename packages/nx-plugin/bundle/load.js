'use strict';
// The plugin and its executors run from one esbuild bundle, rebuilt (~0.3 s) only when a TypeScript source of the
// workspace changes and cached under node_modules/.cache/hotsplice-nx/<fingerprint>/:
// - Nx forks a process per executor (batch); transpiling the sources there (swc-node) cost ~0.5 s each.
// - Nx resolves the executors of a plugin that lives in the workspace "from source", which loads the TypeScript
//   compiler only to read the root tsconfig's customConditions (nx/src/config/schema-utils.js
//   tryResolveFromSource): 0.3-0.4 s more per process (measured: an executor started 0.67-0.78 s after its fork,
//   0.37-0.38 s without). Executors whose folder is under node_modules are taken as installed and skip that, so
//   package.json's "executors" names the executors.json published next to the bundles.
const { createHash } = require('node:crypto');
const { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');

const ROOT = join(__dirname, '..', '..', '..');
const PLUGIN = join(ROOT, 'packages', 'nx-plugin');
const CACHE = join(ROOT, 'node_modules', '.cache', 'hotsplice-nx');
// Bundled code cannot find the repository from its own __dirname (it lives in node_modules/.cache).
process.env.HOTSPLICE_REPO_ROOT ??= ROOT;
const EXECUTORS = JSON.parse(readFileSync(join(PLUGIN, 'executors.json'), 'utf8')).executors;
const ENTRIES = ['index', ...Object.keys(EXECUTORS).map((name) => `executors/${name}`)];

/** A fingerprint of every TypeScript source the plugin can reach (paths, sizes, mtimes: ~5 ms). */
function fingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) {
        const s = statSync(path);
        hash.update(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const group of ['packages', 'tools']) {
    for (const pkg of readdirSync(join(ROOT, group))) if (existsSync(join(ROOT, group, pkg, 'src'))) walk(join(ROOT, group, pkg, 'src'));
  }
  hash.update(readFileSync(join(PLUGIN, 'executors.json')));
  return hash.digest('hex').slice(0, 16);
}

/** Write `file` whole or not at all: several Nx runs may publish at once. */
function writeAtomic(file, text) {
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

let outDir;
function bundleDir() {
  if (outDir) return outDir;
  const dir = join(CACHE, fingerprint());
  if (!existsSync(join(dir, 'done'))) {
    const temp = `${dir}.${process.pid}`;
    require('esbuild').buildSync({
      entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, join(PLUGIN, 'src', `${e}.ts`)])),
      outdir: temp,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['nx', '@nx/devkit', 'esbuild'],
      // An executor process loads its bundle directly: it names the repository itself.
      banner: { js: `process.env.HOTSPLICE_REPO_ROOT ??= ${JSON.stringify(ROOT)};` },
      logLevel: 'error',
    });
    copyFileSync(join(PLUGIN, 'src', 'executors', 'schema.json'), join(temp, 'schema.json'));
    writeFileSync(join(temp, 'done'), '');
    mkdirSync(CACHE, { recursive: true });
    try {
      renameSync(temp, dir);
    } catch {
      // another process finished the same bundle first
      rmSync(temp, { recursive: true, force: true });
    }
    // Keep the newest few bundles (other checkouts or branches may still use them).
    const old = readdirSync(CACHE, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map(({ name }) => ({ name, t: statSync(join(CACHE, name)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .slice(4);
    for (const { name } of old) rmSync(join(CACHE, name), { recursive: true, force: true });
  }
  publishExecutors(basename(dir));
  return (outDir = dir);
}

/** node_modules/.cache/hotsplice-nx/executors.json: executors.json with its paths pointing into this bundle. */
function publishExecutors(fingerprint) {
  const at = (path) => path.replace(/^\.\//, `./${fingerprint}/`);
  const executors = Object.fromEntries(
    Object.entries(EXECUTORS).map(([name, e]) => [
      name,
      { ...e, implementation: at(e.implementation), ...(e.batchImplementation ? { batchImplementation: at(e.batchImplementation) } : {}), schema: at(e.schema) },
    ]),
  );
  const text = `${JSON.stringify({ executors }, null, 2)}\n`;
  const file = join(CACHE, 'executors.json');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeAtomic(file, text);
}

module.exports = (entry) => require(join(bundleDir(), `${entry}.js`));
