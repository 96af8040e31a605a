'use strict';
// The workspace bundle: the Nx plugin, its executors and the command line, compiled by esbuild into
// node_modules/.cache/hotsplice-bundle/<fingerprint>/ once (`npm ci` runs this file, else the first use builds it,
// ~0.5 s) and again only when a TypeScript source of the workspace changes. Compiling the sources at every start
// cost each process ~0.5 s (swc-node): an Nx executor's fork, every `hotsplice` call.
// - index.js, executors/<name>.js: the plugin and one file per executor (packages/nx-plugin/executors.json).
// - cli/main.js: the command line's front (verb table, --help, --version), small so that `hotsplice --help` starts
//   in about Node's own start-up time; cli/commands/<file>.js: one per packages/cli/src/commands/<file>.ts, loaded
//   only by the verb that runs.
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'hotsplice-bundle');
const PLUGIN = join(ROOT, 'packages', 'nx-plugin');
const CLI = join(ROOT, 'packages', 'cli', 'src');
/** Bundles of other checkouts (the tests' scratch workspaces) or branches: the last few used are kept, and any used
 * within the hour (a run may still be loading files from it). A bundle's folder mtime is its last use, give or take
 * ten minutes. */
const KEEP = 4;
const IN_USE_MS = 3600_000;
const TOUCH_MS = 600_000;
// Bundled code cannot find the repository from its own __dirname (it lives in node_modules/.cache).
process.env.HOTSPLICE_REPO_ROOT = ROOT;

/** The entries: output name (without .js) → TypeScript source. */
function entries() {
  const executors = Object.keys(JSON.parse(readFileSync(join(PLUGIN, 'executors.json'), 'utf8')).executors);
  const commands = readdirSync(join(CLI, 'commands')).filter((f) => f.endsWith('.ts'));
  return {
    index: join(PLUGIN, 'src', 'index.ts'),
    ...Object.fromEntries(executors.map((name) => [`executors/${name}`, join(PLUGIN, 'src', 'executors', `${name}.ts`)])),
    'cli/main': join(CLI, 'main.ts'),
    ...Object.fromEntries(commands.map((file) => [`cli/commands/${basename(file, '.ts')}`, join(CLI, 'commands', file)])),
  };
}

/** A fingerprint of every TypeScript source a bundle can reach (paths, sizes, mtimes of ~150 files: a few ms). */
function fingerprint() {
  let text = '';
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) {
        const s = statSync(path);
        text += `${path}\0${s.size}\0${s.mtimeMs}\n`;
      }
    }
  };
  for (const group of ['packages', 'tools']) {
    for (const pkg of readdirSync(join(ROOT, group))) if (existsSync(join(ROOT, group, pkg, 'src'))) walk(join(ROOT, group, pkg, 'src'));
  }
  const hash = createHash('sha256').update(text);
  hash.update(readFileSync(join(PLUGIN, 'executors.json')));
  hash.update(readFileSync(join(ROOT, 'packages', 'cli', 'package.json')));
  hash.update(readFileSync(__filename)); // how the bundle is built
  return hash.digest('hex').slice(0, 16);
}

function build(dir) {
  const temp = `${dir}.${process.pid}`;
  require('esbuild').buildSync({
    entryPoints: entries(),
    outdir: temp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The front's `import('./commands/x')` stays a require of cli/commands/x.js, loaded when that verb runs.
    external: ['nx', '@nx/devkit', 'esbuild', './commands/*'],
    supported: { 'dynamic-import': false },
    // A process that loads one of these files directly (an Nx executor's fork) names the repository itself.
    banner: { js: `process.env.HOTSPLICE_REPO_ROOT = ${JSON.stringify(ROOT)};` },
    logLevel: 'error',
  });
  writeFileSync(join(temp, 'schema.json'), readFileSync(join(PLUGIN, 'src', 'executors', 'schema.json')));
  writeFileSync(join(temp, 'done'), '');
  mkdirSync(CACHE, { recursive: true });
  try {
    renameSync(temp, dir);
  } catch {
    // another process finished the same bundle first
    rmSync(temp, { recursive: true, force: true });
  }
  const old = readdirSync(CACHE, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map(({ name }) => ({ name, t: statSync(join(CACHE, name)).mtimeMs }))
    .sort((a, b) => b.t - a.t)
    .slice(KEEP)
    .filter(({ t }) => Date.now() - t > IN_USE_MS);
  for (const { name } of old) rmSync(join(CACHE, name), { recursive: true, force: true });
}

let current;
/** The folder of the bundle of the sources as they are now, built first if needed. */
function bundleDir() {
  if (current) return current;
  const dir = join(CACHE, fingerprint());
  if (!existsSync(join(dir, 'done'))) build(dir);
  else if (Date.now() - statSync(dir).mtimeMs > TOUCH_MS) utimesSync(dir, new Date(), new Date());
  return (current = dir);
}

module.exports = { CACHE, bundleDir, requireEntry: (entry) => require(join(bundleDir(), `${entry}.js`)) };

if (require.main === module) {
  const start = performance.now();
  const dir = bundleDir();
  process.stdout.write(`hotsplice setup: workspace bundle ${basename(dir)} ready in ${((performance.now() - start) / 1000).toFixed(2)} s\n`);
}
