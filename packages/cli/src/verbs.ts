// Every verb's options and help (verb.ts). Data only: `hotsplice --help` and `hotsplice VERB --help` load this and
// none of the verbs' code.
import type { Verb } from './verb';

const json = { type: 'boolean', help: 'print the result as JSON on stdout (progress stays on stderr)' } as const;
const abi = { type: 'string', value: 'ABI', help: 'the Debian kernel: an ABI (6.1.0-57-amd64, 6.12.118+deb13-amd64), newest-bookworm, newest-trixie (default: newest, the machine\'s release)' } as const;
const timeout = (what: string) => ({ type: 'string', value: 'S', default: '60', help: `seconds to wait for ${what}` }) as const;
const grace = {
  type: 'string',
  value: 'S',
  default: '1',
  help: "seconds before the update signals the tasks still holding the transition, as livepatch's own fake signal does after 15 s (0: never)",
} as const;

export const kernel = {
  name: 'kernel',
  usage: 'kernel prepare [--abi ABI] [--json] | kernel list [--refresh] [--json]',
  summary:
    "prepare: fetch a Debian kernel's packages (source, headers, kbuild, image, -dbg) with apt, unpack them into the " +
    "cache ($HOTSPLICE_CACHE, default ~/.cache/hotsplice), make a build root when the machine lacks the kernel's " +
    "compiler, and prepare the source tree with Debian's config; prints the paths. list: every kernel ABI apt offers " +
    "across Debian's releases (others than the machine's through a private apt configuration), and which are prepared.",
  args: { 'prepare | list': 'what to do' },
  options: {
    abi,
    json,
    quiet: { type: 'boolean', help: 'no progress or phase timings on stderr' },
    refresh: { type: 'boolean', help: "list: ask apt again instead of the cached answer (the releases' lists)" },
  },
  exits: { 0: 'the kernel is prepared, or the list printed', 1: 'apt, a package, the build root or the tree failed (one line says which)' },
  example: 'hotsplice kernel prepare --abi newest-trixie --json',
} as const satisfies Verb;

export const create = {
  name: 'create',
  usage: 'create (--patch FILE… | --git RANGE [--repo DIR] | --diffext DIR --ext EXT | --debian-update VERSION [--only PATH…]) [--id ID] [--abi ABI] [--fuzz N] [--replace [--level N]] [--cve ID]… [--compiler PATH [--force-compiler]] [--json]',
  summary:
    'ksplice-create: build a live update of the kernel from a source patch, through the Nx pipeline (nx run ' +
    'kernel-<id>:hotpatch); writes dist/hotpatch/<id>/hotsplice-<id>.tar.gz, report.json and summary.txt.',
  options: {
    patch: { type: 'string', multiple: true, value: 'FILE', help: 'a unified diff against the kernel source' },
    git: { type: 'string', value: 'RANGE', help: 'the change of a git range (git diff RANGE) of --repo' },
    repo: { type: 'string', value: 'DIR', help: 'the git repository of --git (default: the current folder)' },
    diffext: { type: 'string', value: 'DIR', help: 'a copy of kernel files under DIR, each FILE<EXT> replacing FILE' },
    ext: { type: 'string', value: 'EXT', help: 'the suffix of --diffext files, e.g. .new' },
    'debian-update': { type: 'string', value: 'VERSION', help: "Debian's own update: every change from the ABI's source version to VERSION" },
    only: { type: 'string', multiple: true, value: 'PATH', help: 'with --debian-update: only this file (a directory ends in /); the rest is reported as not selected' },
    id: { type: 'string', value: 'ID', help: 'the update id (lower case, digits, _): names the package and the module (default: from the patch name)' },
    abi,
    fuzz: { type: 'string', value: 'N', help: 'let N (0-3) context lines of a hunk differ; such hunks are reported' },
    replace: { type: 'boolean', help: 'an atomic-replace update: it replaces every update loaded before it' },
    compiler: { type: 'string', value: 'PATH', help: "compile with this compiler instead of the kernel's (its --version must be the kernel's)" },
    'force-compiler': { type: 'boolean', help: 'with --compiler: build although its version is not the kernel\'s (recorded in the package)' },
    level: { type: 'string', value: 'N', help: "the patch level (with --replace): level N holds every fix of the ABI's earlier levels and takes over from them; the .deb's version" },
    cve: { type: 'string', multiple: true, value: 'ID', help: "a CVE id the update fixes (patch headers' CVE ids count too)" },
    json,
  },
  exits: {
    0: 'package built',
    1: 'refused or failed (one line says why; a compile error shows gcc\'s lines)',
    3: 'no functional change',
    4: 'package built, some changes not carried (named in report.json)',
  },
  example: 'hotsplice create --patch CVE-2024-1234.patch --id cve_2024_1234',
} as const satisfies Verb;

export const diff = {
  name: 'diff',
  usage: 'diff PRE.o POST.o --parent ELF [--symvers FILE] [--objname NAME] --out NEW.o [--old-out OLD.o] [--json]',
  summary: "Ksplice's objmanip on one object pair: the changed functions' new code (with livepatch relocations against the parent) and their old code for run-pre.",
  args: { 'PRE.o': 'the object built from the original source', 'POST.o': 'the same object built from the patched source' },
  options: {
    parent: { type: 'string', value: 'ELF', help: "what the object is linked into: the -dbg vmlinux, or the module's .ko" },
    symvers: { type: 'string', value: 'FILE', help: "the kernel's Module.symvers (exported symbols are referenced, not relocated)" },
    objname: { type: 'string', value: 'NAME', default: 'vmlinux', help: 'the livepatch object: vmlinux or the module name' },
    out: { type: 'string', value: 'NEW.o', help: 'where the new code goes' },
    'old-out': { type: 'string', value: 'OLD.o', help: 'where the old code goes (run-pre matching)' },
    json,
  },
  exits: { 0: 'a change found, outputs written', 1: 'refused: one line naming the symbol and why', 3: 'no functional change' },
  example: 'hotsplice diff pre/fs/proc/version.o post/fs/proc/version.o --parent vmlinux --out new.o --old-out old.o',
} as const satisfies Verb;

export const guest = {
  name: 'guest',
  usage: 'guest --run SCRIPT [--run SCRIPT]… [--file F]… [--node] [--cli] [--abi ABI] [--timeout S] [--json]',
  summary:
    "Boot the prepared Debian kernel under QEMU (TCG) with a busybox initramfs holding the scripts and files; the " +
    'console streams to stderr; fails on any oops, BUG, WARNING or panic.',
  options: {
    run: { type: 'string', multiple: true, value: 'SCRIPT', help: 'a shell script to run in the guest, in order' },
    file: { type: 'string', multiple: true, value: 'F', help: "a file for the scripts (in /hotsplice/files, the scripts' working folder)" },
    node: { type: 'boolean', help: "add this machine's node to the guest" },
    cli: { type: 'boolean', help: 'add the bundled target CLI (hotsplice apply/undo/view) to the guest' },
    abi,
    timeout: { type: 'string', value: 'S', default: '300', help: 'seconds until the guest is stopped' },
    quiet: { type: 'boolean', help: "no console on stderr; the scripts' output on stdout" },
    json,
  },
  exits: {
    0: 'every script exited 0 and the kernel logged no problem',
    1: 'a kernel problem (oops, BUG, WARNING, panic) or a guest that did not finish',
    124: 'the timeout passed',
    N: "the first failing script's own exit code",
  },
  example: 'hotsplice guest --run check.sh --file hotsplice-fix.tar.gz --node --cli',
} as const satisfies Verb;

export const cacheServer = {
  name: 'cache-server',
  usage: 'cache-server [--dir D] [--port P] [--listen ADDR] [--read-token T] [--write-token T] [--max-entry-bytes N] [--max-store-bytes N] [--json]',
  summary:
    "Nx's self-hosted remote cache (GET/PUT /v1/cache/{hash}) on Debian's nginx, in the foreground until Ctrl-C or " +
    'SIGTERM; prints the URL and the variables a CI job sets. Tokens may come from HOTSPLICE_CACHE_READ_TOKEN / HOTSPLICE_CACHE_WRITE_TOKEN.',
  options: {
    dir: { type: 'string', value: 'D', help: 'the store folder (default: a new temporary one)' },
    port: { type: 'string', value: 'P', default: '0', help: 'the port (0: any free one)' },
    listen: { type: 'string', value: 'ADDR', default: '127.0.0.1', help: 'the address to listen on' },
    'read-token': { type: 'string', value: 'T', help: 'the read-only token (untrusted jobs)' },
    'write-token': { type: 'string', value: 'T', help: 'the read-write token (default: a random one, printed)' },
    'max-entry-bytes': { type: 'string', value: 'N', help: 'the largest entry accepted (1234, 64K, 256M, 8G)' },
    'max-store-bytes': { type: 'string', value: 'N', help: 'evict the oldest entries above this store size' },
    json,
  },
  exits: { 0: 'stopped by a signal', 1: 'nginx could not start or exited on its own' },
  example: 'hotsplice cache-server --dir /srv/hotsplice-cache --port 8080 --listen 0.0.0.0',
} as const satisfies Verb;

export const repo = {
  name: 'repo',
  usage: 'repo [--out DIR] [--sign KEY] [--json]',
  summary:
    "An apt repository of the workspace's update packages (every .deb the package steps wrote under dist/hotpatch, " +
    'with hotsplice-tools): a flat folder with Packages and Release (apt-ftparchive) that any web server serves; with ' +
    '--sign, InRelease and Release.gpg signed by your gpg key (GNUPGHOME applies) and its public key for signed-by.',
  options: {
    out: { type: 'string', value: 'DIR', help: 'the repository folder (default: dist/apt); its old packages are replaced' },
    sign: { type: 'string', value: 'KEY', help: 'the gpg key id or user id to sign Release with' },
    json,
  },
  exits: { 0: 'repository written', 1: 'no packages, two different packages of one name and version, or signing failed' },
  example: 'hotsplice repo --out /srv/hotsplice-cache/apt --sign fleet@example.org',
} as const satisfies Verb;

export const apply = {
  name: 'apply',
  usage: 'apply (PACKAGE | --installed) [--timeout S] [--grace S] [--skip-run-pre] [--json]',
  summary:
    'ksplice-apply: verify the package, check it was built for the running kernel, match its old code against the ' +
    "running kernel's (run-pre), load it and wait for livepatch's transition. Any failure leaves the kernel as it was. " +
    'With --installed (hotsplice.service at boot): every installed update of the running release and build id, in ' +
    'install order; each refusal is one line and the others go on.',
  args: { PACKAGE: 'hotsplice-<id>.tar.gz, as create wrote it' },
  options: {
    installed: { type: 'boolean', help: 'apply the updates `hotsplice install` keeps for the running kernel instead of a package' },
    timeout: timeout('the patch transition (on timeout it is reversed and the module unloaded)'),
    grace,
    'skip-run-pre': { type: 'boolean', help: 'load it even if the old code does not match (or cannot be read)' },
    json,
  },
  exits: {
    0: 'applied (--installed: every installed update of this kernel is live)',
    1: 'refused or failed (one line, plus the kernel log lines for it; --installed: one or more updates)',
    124: 'the transition did not finish in time (reversed)',
  },
  example: 'hotsplice apply hotsplice-cve_2024_1234.tar.gz',
} as const satisfies Verb;

export const install = {
  name: 'install',
  usage: 'install PACKAGE [--timeout S] [--grace S] [--skip-run-pre] [--json]',
  summary:
    'Keep an update across reboots: verify the package as apply does, store it under ' +
    '$HOTSPLICE_STATE_DIR/updates/<abi>/ (default /var/lib/hotsplice) and apply it now when the machine runs that ' +
    "kernel; for another kernel it stays dormant until that kernel boots (hotsplice.service). A patch level replaces " +
    "the ABI's earlier levels: its atomic replace takes them over and their modules are unloaded.",
  args: { PACKAGE: 'hotsplice-<id>.tar.gz' },
  options: {
    timeout: timeout('the patch transition'),
    grace,
    'skip-run-pre': { type: 'boolean', help: 'load it even if the old code does not match' },
    json,
  },
  exits: {
    0: 'installed: applied now, already applied, or dormant for another kernel',
    1: 'refused (bad package, another build of the running kernel, apply refused): nothing stays installed',
    124: 'the transition did not finish in time (reversed; not installed)',
  },
  example: 'hotsplice install /usr/lib/hotsplice/6.1.0-57-amd64/hotsplice-fleet_fix.tar.gz',
} as const satisfies Verb;

export const uninstall = {
  name: 'uninstall',
  usage: 'uninstall ID [--timeout S] [--grace S] [--force] [--json]',
  summary: 'Undo an update if it is loaded, and remove it from the store of every ABI it was installed for. An update neither installed nor loaded is nothing to do (exit 0), so a package\'s prerm can always run.',
  args: { ID: 'the update id (hotsplice list shows them)' },
  options: {
    timeout: timeout('the unpatch transition'),
    grace,
    force: { type: 'boolean', help: "end a transition a task holds open with livepatch's force" },
    json,
  },
  exits: { 0: 'uninstalled, or it was not installed', 1: 'the undo failed (it stays installed)', 124: 'the unpatch transition did not finish in time (still installed)' },
  example: 'hotsplice uninstall fleet_fix',
} as const satisfies Verb;

export const list = {
  name: 'list',
  usage: 'list [--json]',
  summary: 'The installed updates per kernel ABI, each with its level, CVEs and state (applied, replaced, not loaded, dormant for another kernel), and updates loaded by hand.',
  options: { json },
  exits: { 0: 'always' },
  example: 'hotsplice list --json',
} as const satisfies Verb;

export const undo = {
  name: 'undo',
  usage: 'undo ID [--timeout S] [--grace S] [--force] [--json]',
  summary: "ksplice-undo: disable the update's livepatch, wait for the unpatch transition and unload its module.",
  args: { ID: 'the update id (hotsplice view lists them)' },
  options: {
    timeout: timeout('the unpatch transition'),
    grace,
    force: { type: 'boolean', help: "end a transition a task holds open with livepatch's force (the kernel then keeps the module loaded)" },
    json,
  },
  exits: { 0: 'undone', 1: 'not applied, or unloading failed', 124: 'the transition did not finish in time; the update stays undoing' },
  example: 'hotsplice undo cve_2024_1234',
} as const satisfies Verb;

export const view = {
  name: 'view',
  usage: 'view [--json]',
  summary: 'ksplice-view: the machine\'s kernel, patch level, effective Debian version and live CVEs, then the loaded updates (id, level, functions, objects, state applied/applying/undoing/replaced, CVEs, since).',
  options: { json },
  exits: { 0: 'always (no update loaded is not an error)' },
  example: 'hotsplice view --json',
} as const satisfies Verb;

export const status = {
  name: 'status',
  usage: 'status [ID] [--json]',
  summary:
    'Without ID, the machine: the running kernel and its Debian version, the patch level live, the CVEs the live ' +
    'updates fix and the effective Debian version (the newest whose every fix is live), for scanners with --json. ' +
    'With ID, one update in detail: its state, level, CVEs, objects and every function.',
  args: { ID: 'the update id (optional)' },
  options: { json },
  exits: { 0: 'the machine status, or the update is loaded', 1: 'the update is not applied' },
  example: 'hotsplice status --json',
} as const satisfies Verb;

export const verify = {
  name: 'verify',
  usage: 'verify PACKAGE [--json]',
  summary: "The run-pre check alone: does the running kernel hold the code the update replaces? One line per function; loads nothing.",
  args: { PACKAGE: 'hotsplice-<id>.tar.gz' },
  options: { json },
  exits: { 0: 'every function matched', 1: 'a mismatch (first function, offset, both byte strings) or a package for another kernel' },
  example: 'hotsplice verify hotsplice-cve_2024_1234.tar.gz',
} as const satisfies Verb;
