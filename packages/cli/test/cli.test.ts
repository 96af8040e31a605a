import { describe, expect, it } from 'vitest';
import { hotsplice } from './helpers/run-cli';


describe('hotsplice CLI manners', () => {
  it('prints usage listing the verbs', async () => {
    const r = await hotsplice('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: hotsplice <command>/);
    expect(r.stdout).toContain('\n  kernel prepare  fetch and prepare a Debian kernel\n');
    expect(r.stdout).toContain('\n  guest           run scripts in a QEMU guest');
  });

  it('rejects an unknown verb with exit 2', async () => {
    const r = await hotsplice('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('hotsplice: unknown command "frobnicate"');
  });

  it('rejects an unknown option in one line, no stack trace', async () => {
    const r = await hotsplice('kernel', 'prepare', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it('lists the ABIs apt offers when --abi names none of them', async () => {
    const r = await hotsplice('kernel', 'prepare', '--abi', '6.1.0-0-amd64', '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^hotsplice: unknown kernel ABI "6\.1\.0-0-amd64"; apt offers: 6\.1\.0-\d+-amd64(, 6\.1\.0-\d+-amd64)*\n$/);
  });

  it('refuses a guest run without a script', async () => {
    const r = await hotsplice('guest');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'hotsplice: usage: hotsplice guest --run SCRIPT [--run SCRIPT]… [--file F]… [--node] [--cli] [--abi ABI] [--timeout S] [--json] (hotsplice guest --help for more)\n',
    );
  });
});

describe('hotsplice create --debian-update', () => {
  it('refuses what is not a Debian version as usage, before anything is written', async () => {
    const r = await hotsplice('create', '--debian-update', '6.1 and more');
    expect([r.code, r.stderr]).toEqual([2, 'hotsplice: --debian-update "6.1 and more": give a Debian package version such as 6.1.192-3\n']);
  });
});
