#!/usr/bin/env node
'use strict';
// Workspace entry: the TypeScript sources are compiled on the fly by @swc-node/register.
// Target machines get the self-contained bundle instead (built by tools/guest, no node_modules needed).
const { join } = require('node:path');
process.env.SWC_NODE_PROJECT ??= join(__dirname, '..', '..', '..', 'tsconfig.base.json');
require('@swc-node/register');
require('../src/main.ts')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
