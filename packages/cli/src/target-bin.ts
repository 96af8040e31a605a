// Entry of the self-contained target bundle (tools/guest/src/bundle.ts): only the verbs a target machine runs.
import { runCli } from './cli';
import { TARGET_COMMANDS } from './target';

runCli(process.argv.slice(2), TARGET_COMMANDS).then((code) => process.exit(code));
