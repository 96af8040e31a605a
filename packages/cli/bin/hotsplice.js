#!/usr/bin/env node
'use strict';
// Workspace entry. The command line runs from the workspace bundle (tools/setup/bundle.js: built by `npm ci`, rebuilt
// on first use after a source changes); its front holds only the verb table, so `--help` costs about Node's own
// start, and a verb loads just its own file. HOTSPLICE_FROM_SOURCE=1 runs the TypeScript sources instead, compiled on
// the fly by @swc-node/register (development: stack traces point into src/).
// Target machines get a self-contained bundle of the target verbs instead (tools/guest bundleCli, no node_modules).
const { join } = require('node:path');
let main;
if (process.env.HOTSPLICE_FROM_SOURCE) {
  process.env.SWC_NODE_PROJECT ??= join(__dirname, '..', '..', '..', 'tsconfig.base.json');
  require('@swc-node/register');
  ({ main } = require('../src/main.ts'));
} else {
  ({ main } = require('../../../tools/setup/bundle.js').requireEntry('cli/main'));
}
main(process.argv.slice(2)).then((code) => process.exit(code));
