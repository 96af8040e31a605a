// Entry of the self-contained bundle (tools/guest/src/bundle.ts); the workspace uses bin/hotsplice.js.
import { main } from './main';

main(process.argv.slice(2)).then((code) => process.exit(code));
