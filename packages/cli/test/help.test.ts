// Every verb answers --help and -h (usage, options, exit codes, one example) without running, and the command line
// answers --version: in the workspace CLI (its bundle) and in the target bundle that ships to a machine.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../../tools/guest/src/bundle';
import { hotsplice, runScript } from './helpers/run-cli';

const VERSION = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version as string;
const TARGET_VERBS = ['apply', 'undo', 'view', 'status', 'install', 'uninstall', 'list', 'verify'];
const VERBS = ['kernel', 'create', 'diff', 'guest', 'repo', 'cache-server', ...TARGET_VERBS];

/** The options a verb's help lists: "--timeout", "--json"… */
const listedOptions = (help: string) => [...help.split('\noptions:\n')[1].split('\n\n')[0].matchAll(/^ {2}(?:-h, )?(--[\w-]+)/gm)].map((m) => m[1]);

function expectHelpPage(name: string, r: { code: number; stdout: string; stderr: string }) {
  expect([r.code, r.stderr]).toEqual([0, '']);
  const page = r.stdout;
  expect(page.split('\n')[0]).toMatch(new RegExp(`^usage: hotsplice ${name}\\b`));
  expect(page).toMatch(/\n\noptions:\n {2}--/);
  expect(listedOptions(page)).toContain('--help');
  expect(page).toMatch(/\n\nexit codes:\n {2}0 +\S/);
  expect(page).toMatch(/\n {2}2 +bad usage/);
  expect(page).toMatch(new RegExp(`\\n\\nexample:\\n {2}hotsplice ${name} \\S`));
}

describe('hotsplice VERB --help / -h', () => {
  it('the command list names exactly these verbs', async () => {
    const r = await hotsplice('--help');
    const listed = [...r.stdout.split('\ncommands:\n')[1].split('\n\n')[0].matchAll(/^ {2}([\w-]+)/gm)].map((m) => m[1]);
    expect(listed).toEqual(VERBS);
  });

  for (const name of VERBS) {
    it(`${name}: --help and -h print the same page, exit 0, and run nothing`, async () => {
      const [long, short] = await Promise.all([hotsplice(name, '--help'), hotsplice(name, '-h')]);
      expectHelpPage(name, long);
      expect(short).toEqual(long);
    });
  }

  it('hotsplice help VERB is VERB --help', async () => {
    const [viaHelp, long] = await Promise.all([hotsplice('help', 'undo'), hotsplice('undo', '--help')]);
    expect(viaHelp).toEqual(long);
  });

  it('lists every option the verb accepts, each of which the parser takes', async () => {
    const page = (await hotsplice('apply', '--help')).stdout;
    expect(listedOptions(page)).toEqual(['--installed', '--timeout', '--grace', '--skip-run-pre', '--json', '--help']);
    // An option the page does not list is refused, and the refusal points at the page.
    const r = await hotsplice('apply', '--frobnicate', 'x.tar.gz');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hotsplice: Unknown option '--frobnicate'.*\(hotsplice apply --help lists the options\)\n$/);
  });

  it('takes "-h" given as an option\'s value for that value, not for help', async () => {
    const r = await hotsplice('create', '--id', '-h');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });
});

describe('hotsplice --version', () => {
  it('prints the name and version of the command line', async () => {
    expect(await hotsplice('--version')).toEqual({ code: 0, stdout: `hotsplice ${VERSION}\n`, stderr: '' });
  });
});

describe('the target bundle (hotsplice.cjs, shipped beside an update)', () => {
  let cjs: string;
  const run = (...args: string[]) => runScript(cjs, args);
  beforeAll(async () => {
    cjs = await bundleCli(join(mkdtempSync(join(tmpdir(), 'hs-target-')), 'hotsplice.cjs'));
  });

  it('answers --version and lists only the target verbs', async () => {
    expect(await run('--version')).toEqual({ code: 0, stdout: `hotsplice ${VERSION}\n`, stderr: '' });
    const list = (await run('--help')).stdout.split('\ncommands:\n')[1].split('\n\n')[0];
    expect([...list.matchAll(/^ {2}([\w-]+)/gm)].map((m) => m[1])).toEqual(TARGET_VERBS);
  });

  for (const name of TARGET_VERBS) {
    it(`${name} --help: the same page as the workspace CLI's`, async () => {
      const [target, workspace] = await Promise.all([run(name, '-h'), hotsplice(name, '--help')]);
      expectHelpPage(name, target);
      expect(target.stdout).toBe(workspace.stdout);
    });
  }
});
