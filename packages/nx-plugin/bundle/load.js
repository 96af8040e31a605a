'use strict';
// The plugin and its executors run from the workspace bundle (tools/setup/bundle.js), never from the TypeScript
// sources: Nx forks a process per executor (batch), and transpiling the sources there (swc-node) cost ~0.5 s each.
// Nx also resolves the executors of a plugin that lives in the workspace "from source", which loads the TypeScript
// compiler only to read the root tsconfig's customConditions (nx/src/config/schema-utils.js
// tryResolveFromSource): 0.3-0.4 s more per process (measured: an executor started 0.67-0.78 s after its fork,
// 0.37-0.38 s without). Executors whose folder is under node_modules are taken as installed and skip that, so
// package.json's "executors" names the executors.json published next to the bundles.
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');
const { CACHE, bundleDir } = require('../../../tools/setup/bundle');

const EXECUTORS = JSON.parse(readFileSync(join(__dirname, '..', 'executors.json'), 'utf8')).executors;

/** node_modules/.cache/hotsplice-bundle/executors.json: executors.json with its paths pointing into the bundle. */
function publishExecutors(dir) {
  const at = (path) => path.replace(/^\.\//, `./${basename(dir)}/`);
  const executors = Object.fromEntries(
    Object.entries(EXECUTORS).map(([name, e]) => [
      name,
      { ...e, implementation: at(e.implementation), ...(e.batchImplementation ? { batchImplementation: at(e.batchImplementation) } : {}), schema: at(e.schema) },
    ]),
  );
  const text = `${JSON.stringify({ executors }, null, 2)}\n`;
  const file = join(CACHE, 'executors.json');
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  // Whole or not at all: several Nx runs may publish at once.
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

let published;
module.exports = (entry) => {
  const dir = bundleDir();
  if (published !== dir) publishExecutors((published = dir));
  return require(join(dir, `${entry}.js`));
};
