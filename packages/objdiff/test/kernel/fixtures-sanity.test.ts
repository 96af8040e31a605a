// The fixture corpus itself, independent of the differ: every case compiles with the kernel's real flags and
// objtool, and the objects really contain what the case is about (checked with readelf, not with our ELF code).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FixtureCase, compileAll, loadCases } from '../helpers/fixtures';
import { compileArgs, compileKernelC, kbuildCommand, parseKbuildCmd, shellWords, useKernel } from '../helpers/kernel-cc';
import { ReadelfObject } from '../helpers/readelf';

const kernel = inject('kernel');
const cases = loadCases();

interface Pair {
  pre: ReadelfObject;
  post: ReadelfObject;
}

/** The __fentry__ call at the start of a function (absent for notrace/noinstr code). */
function hasFentry(o: ReadelfObject, fn: string): boolean {
  return o.relocsIn(fn).some((r) => r.symbol === '__fentry__' && r.offset === 1);
}

/** The opcode before the first relocation of `fn` whose symbol matches `target`: 0xe8 call, 0xe9 jmp. */
function branchTo(o: ReadelfObject, fn: string, target: RegExp): number | undefined {
  const r = o.relocsIn(fn).find((x) => target.test(x.symbol));
  return r && o.symbolBytes(fn)[r.offset - 1];
}

/** A special table has an entry whose relocation points into the function's section. */
function tablePointsInto(o: ReadelfObject, table: string, fn: string): boolean {
  const section = o.symbol(fn)?.section;
  return section !== undefined && o.relocsInto(table, section).length > 0;
}

function expectIn(o: ReadelfObject, name: string, type: 'FUNC' | 'OBJECT', section?: string | RegExp): void {
  const sym = o.symbol(name);
  expect(sym, `${name} in ${o.file}`).toBeDefined();
  expect(sym!.type).toBe(type);
  expect(sym!.section, `${name} is defined`).toBeDefined();
  if (typeof section === 'string') expect(sym!.section).toBe(section);
  else if (section) expect(sym!.section).toMatch(section);
}

/** Every function defined in both objects has the same bytes (by name): "nothing changed" in the code. */
function sameCode(p: Pair, names = p.post.defined('FUNC')): void {
  for (const fn of names) {
    if (!p.pre.symbol(fn)) continue;
    expect(p.post.symbolBytes(fn).equals(p.pre.symbolBytes(fn)), `${fn} has the same bytes`).toBe(true);
  }
}

/** What each case claims, checked in its objects. */
const claims: Record<string, (p: Pair) => void> = {
  'body-one-line': (p) => expect(p.post.symbolBytes('hs_dev_set_name').equals(p.pre.symbolBytes('hs_dev_set_name'))).toBe(false),
  'string-change': (p) => {
    expect(p.post.symbolBytes('hs_port_enable.cold').equals(p.pre.symbolBytes('hs_port_enable.cold'))).toBe(true);
    expect(p.pre.hasString('\x014hs_port: port %u busy\n')).toBe(true);
    expect(p.post.hasString('\x014hs_port: port %u is already enabled\n')).toBe(true);
  },
  'new-function': (p) => expect(p.pre.symbol('hs_quota_available')).toBeUndefined(),
  'new-static-helper-called-from-changed': (p) => {
    expectIn(p.post, 'hs_range_overlaps', 'FUNC');
    expect(p.post.symbol('hs_range_overlaps')!.bind).toBe('LOCAL');
    expect(p.post.relocsIn('hs_range_insert').some((r) => /hs_range_overlaps/.test(r.symbol))).toBe(true);
  },
  'new-global-data': (p) => expectIn(p.post, 'hs_conn_max_retries', 'OBJECT', '.data.hs_conn_max_retries'),
  'static-local-counter': (p) => {
    expectIn(p.pre, 'dropped.0', 'OBJECT', '.bss.dropped.0');
    expectIn(p.post, 'dropped.0', 'OBJECT', '.bss.dropped.0');
  },
  'constprop-clone': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_ring_account.constprop.0', 'FUNC', '.text.hs_ring_account.constprop.0');
      expect(o.symbol('hs_ring_account')).toBeUndefined();
    }
    sameCode(p, ['hs_ring_rx', 'hs_ring_rx_batch', 'hs_ring_rx_small']);
  },
  'isra-clone': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_req_cost.isra.0', 'FUNC');
      expect(o.symbol('hs_req_cost')).toBeUndefined();
    }
    sameCode(p, ['hs_req_submit', 'hs_req_estimate']);
  },
  'cold-split': (p) => {
    for (const o of [p.pre, p.post]) expectIn(o, 'hs_rec_read.cold', 'FUNC', '.text.unlikely.hs_rec_read');
    expect(p.post.symbolBytes('hs_rec_read').equals(p.pre.symbolBytes('hs_rec_read'))).toBe(false);
  },
  'cold-part-only-change': (p) => {
    for (const o of [p.pre, p.post]) expectIn(o, 'hs_rec_read.cold', 'FUNC', '.text.unlikely.hs_rec_read');
    expect(p.post.symbolBytes('hs_rec_read').equals(p.pre.symbolBytes('hs_rec_read'))).toBe(true);
    expect(p.post.symbolBytes('hs_rec_read.cold').equals(p.pre.symbolBytes('hs_rec_read.cold'))).toBe(false);
  },
  'part-split': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_table_get.part.0', 'FUNC');
      expect(o.symbol('hs_table_get')).toBeUndefined();
    }
    sameCode(p, ['hs_table_first', 'hs_table_sum', 'hs_table_xor', 'hs_table_get.part.0']);
    expect(p.post.hasString('\x016hs_table: refilled %p (%u times)\n')).toBe(true);
  },
  'line-shift-only': (p) => {
    sameCode(p);
    for (const o of [p.pre, p.post]) expect(tablePointsInto(o, '__bug_table', 'hs_buf_push')).toBe(true);
    // The WARN_ON line numbers moved: the bug table's bytes differ.
    expect(p.post.sectionBytes('__bug_table').equals(p.pre.sectionBytes('__bug_table'))).toBe(false);
  },
  'warn-in-changed': (p) => {
    for (const o of [p.pre, p.post]) expect(tablePointsInto(o, '__bug_table', 'hs_slot_put')).toBe(true);
    expect(p.post.relocsInto('__bug_table', '.text.hs_slot_put').length).toBe(p.pre.relocsInto('__bug_table', '.text.hs_slot_put').length);
  },
  'warn-once-format-in-changed': (p) => {
    // The WARN_ONCE is inlined into the changed function: its __bug_table entry points into hs_show_mode.
    for (const o of [p.pre, p.post]) expect(tablePointsInto(o, '__bug_table', 'hs_show_mode')).toBe(true);
  },
  'static-key': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(tablePointsInto(o, '__jump_table', 'hs_counter_event')).toBe(true);
      expectIn(o, 'hs_trace_enabled', 'OBJECT');
    }
  },
  alternatives: (p) => {
    for (const o of [p.pre, p.post]) expect(tablePointsInto(o, '.altinstructions', 'hs_tsc_read')).toBe(true);
  },
  'user-access': (p) => {
    for (const o of [p.pre, p.post]) expect(tablePointsInto(o, '__ex_table', 'hs_args_fetch')).toBe(true);
  },
  'sched-text': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_gate_wait', 'FUNC', '.sched.text');
      expectIn(o, 'hs_gate_nap', 'FUNC', '.sched.text');
    }
    // The unchanged neighbour moved inside the shared section.
    expect(p.post.symbol('hs_gate_nap')!.value).not.toBe(p.pre.symbol('hs_gate_nap')!.value);
    sameCode(p, ['hs_gate_nap', 'hs_gate_open']);
  },
  'static-inline-in-callers': (p) => {
    for (const o of [p.pre, p.post]) expect(o.symbol('hs_win_contains')).toBeUndefined();
    sameCode(p, ['hs_win_shift']);
  },
  'weak-function': (p) => {
    for (const o of [p.pre, p.post]) expect(o.symbol('hs_arch_probe')!.bind).toBe('WEAK');
  },
  'duplicated-local-names': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(o.defined('OBJECT').filter((n) => /^calls\.\d+$/.test(n))).toHaveLength(2);
      expect(o.defined('OBJECT').filter((n) => /^__func__\.\d+$/.test(n))).toHaveLength(2);
    }
    sameCode(p, ['hs_file_open', 'hs_file_open.cold']);
  },
  'function-pointer-to-existing': (p) => {
    const points = (o: ReadelfObject) => o.relocsIn('hs_handler_init').some((r) => r.symbol === '.text.hs_default_release' || r.symbol === 'hs_default_release');
    expect(points(p.pre)).toBe(false);
    expect(points(p.post)).toBe(true);
    sameCode(p, ['hs_default_release', 'hs_default_handle']);
  },
  'switch-statement': (p) => {
    // -fno-jump-tables: the switch compiles to compares, no .rodata table pointing back into the function.
    for (const o of [p.pre, p.post]) expect([...o.relocations.keys()].filter((s) => s.startsWith('.rodata') && o.relocsInto(s, '.text.hs_disk_exec').length)).toEqual([]);
  },
  'per-cpu-variable': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_irq_hits', 'OBJECT', '.data..percpu');
      expect(o.relocsIn('hs_irq_account').some((r) => r.symbol === 'hs_irq_bytes')).toBe(true);
    }
  },
  'exported-vs-unexported-callee': (p) => {
    const callees = (o: ReadelfObject) => o.relocsIn('hs_task_prio').map((r) => r.symbol);
    expect(callees(p.pre)).toContain('find_task_by_vpid');
    expect(callees(p.post)).toEqual(expect.arrayContaining(['find_task_by_vpid', 'pid_task']));
  },
  'changed-global-initializer': (p) => {
    sameCode(p);
    expect(p.post.symbolBytes('hs_max_batch').equals(p.pre.symbolBytes('hs_max_batch'))).toBe(false);
  },
  'init-function-change': (p) => {
    for (const o of [p.pre, p.post]) expectIn(o, 'hs_pool_setup', 'FUNC', '.init.text');
  },
  'notrace-function-change': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(hasFentry(o, 'hs_clock_cyc2ns')).toBe(false);
      expect(hasFentry(o, 'hs_clock_set')).toBe(true);
    }
  },
  'notrace-static-helper': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_ring_scale', 'FUNC', '.text.hs_ring_scale');
      expect(o.symbol('hs_ring_scale')!.bind).toBe('LOCAL');
      expect(hasFentry(o, 'hs_ring_scale')).toBe(false);
      for (const caller of ['hs_ring_used', 'hs_ring_free']) {
        expect(hasFentry(o, caller)).toBe(true);
        expect(branchTo(o, caller, /hs_ring_scale/), caller).toBe(0xe8);
      }
    }
  },
  'syscall-define-body': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, '__do_sys_hs_probe', 'FUNC', '.text.__do_sys_hs_probe');
      expect(hasFentry(o, '__do_sys_hs_probe')).toBe(false);
      // The wrappers end in a sibling call into the body: jmp rel32.
      for (const wrapper of ['__x64_sys_hs_probe', '__ia32_sys_hs_probe']) {
        expect(hasFentry(o, wrapper)).toBe(true);
        expect(branchTo(o, wrapper, /__do_sys_hs_probe/), wrapper).toBe(0xe9);
      }
    }
  },
  'notrace-address-taken': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(hasFentry(o, 'hs_step')).toBe(false);
      expect(o.relocsIn('hs_default_ops').some((r) => /hs_step/.test(r.symbol))).toBe(true);
    }
  },
  'notrace-sibling-mixed': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(hasFentry(o, 'hs_mix_step')).toBe(false);
      expect(branchTo(o, 'hs_mix_run', /hs_mix_step/)).toBe(0xe9);
      expect(branchTo(o, 'hs_mix_step', /hs_mix_scale/)).toBe(0xe8);
    }
  },
  'notrace-sibling-forced': (p) => {
    for (const o of [p.pre, p.post]) expect(branchTo(o, 'hs_mix_run', /hs_mix_step/)).toBe(0xe9);
    expect(p.post.relocsIn('__hotsplice_force_unsafe_hs_mix_step').some((r) => /hs_mix_step/.test(r.symbol))).toBe(true);
  },
  'kpatch-markers': (p) => {
    for (const section of ['.hotsplice.ignore_function', '.hotsplice.force_unsafe', '.hotsplice.pre_patch']) {
      expect(p.pre.hasSection(section), section).toBe(false);
      expect(p.post.hasSection(section), section).toBe(true);
    }
    expect(p.post.symbolBytes('hs_mark_noise').equals(p.pre.symbolBytes('hs_mark_noise'))).toBe(false);
  },
  'noinstr-function-change': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_entry_enter', 'FUNC', '.noinstr.text');
      expect(hasFentry(o, 'hs_entry_enter')).toBe(false);
    }
  },
  'module-object': (p) => {
    for (const o of [p.pre, p.post]) {
      // module_init() with -DMODULE: the init_module/cleanup_module aliases, no built-in initcall.
      expectIn(o, 'init_module', 'FUNC', '.init.text');
      expectIn(o, 'cleanup_module', 'FUNC', '.exit.text');
      expect(o.sections.some((s) => s.name.startsWith('.initcall'))).toBe(false);
      expect(o.hasSection('___ksymtab_gpl+hs_mod_over')).toBe(true);
    }
  },
  'comment-only': (p) => sameCode(p),
  'unchanged-identical': (p) => sameCode(p),
  'renamed-local-variable-only': (p) => sameCode(p),
  'function-order-swapped': (p) => {
    sameCode(p);
    const order = (o: ReadelfObject) => o.sections.filter((s) => s.name.startsWith('.text.hs_pair_m')).map((s) => s.name);
    expect(order(p.post)).toEqual([...order(p.pre)].reverse());
  },
  'changed-return-value': (p) => sameCode(p, ['hs_key_equal']),
  'new-callee-exported': (p) => {
    expect(p.pre.relocsIn('hs_cfg_replace').map((r) => r.symbol)).not.toContain('synchronize_rcu');
    expect(p.post.relocsIn('hs_cfg_replace').map((r) => r.symbol)).toContain('synchronize_rcu');
  },
  'reordered-independent-statements': (p) => expect(p.post.symbolBytes('hs_stats_clear').equals(p.pre.symbolBytes('hs_stats_clear'))).toBe(false),
  'changed-printk-format': (p) => {
    // Same code, another format string: only a string relocation target differs.
    sameCode(p);
    expect(p.post.hasString('\x015hs_link%u: up, %u Mb/s\n')).toBe(true);
  },
  'removed-call': (p) => sameCode(p, ['hs_msg_scrub', 'hs_msg_free']),
  'new-string-in-new-function': (p) => {
    expectIn(p.post, 'hs_fw_complain.isra.0', 'FUNC');
    expect(p.pre.symbol('hs_fw_check.cold')).toBeUndefined();
    expectIn(p.post, 'hs_fw_check.cold', 'FUNC');
  },
  'changed-data-structure-layout': (p) => {
    expect(p.pre.symbol('hs_default_policy')!.size).toBe(8);
    expect(p.post.symbol('hs_default_policy')!.size).toBe(12);
  },
  'removed-function': (p) => {
    expectIn(p.pre, 'hs_vec_grow_cap', 'FUNC');
    expect(p.post.symbol('hs_vec_grow_cap')).toBeUndefined();
  },
  'inline-asm-change': (p) => {
    const lfence = Buffer.from([0x0f, 0xae, 0xe8]);
    expect(p.pre.symbolBytes('hs_flag_wait').includes(lfence)).toBe(false);
    expect(p.post.symbolBytes('hs_flag_wait').includes(lfence)).toBe(true);
  },
  'export-symbol-function-change': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(o.hasSection('___ksymtab+hs_ratio_apply')).toBe(true);
      expect(o.hasSection('___ksymtab_gpl+hs_ratio_valid')).toBe(true);
    }
  },
  'always-inline-helper-change': (p) => {
    for (const o of [p.pre, p.post]) expect(o.symbol('hs_tok_refill')).toBeUndefined();
    sameCode(p, ['hs_tok_init']);
  },
  'new-static-local': (p) => {
    expect(p.pre.symbol('warned.0')).toBeUndefined();
    expectIn(p.post, 'warned.0', 'OBJECT', '.bss.warned.0');
  },
  'static-local-renumbered': (p) => {
    expect(p.pre.defined('OBJECT').sort()).toEqual(['reads.1', 'writes.0']);
    expect(p.post.defined('OBJECT').sort()).toEqual(['opens.0', 'reads.2', 'writes.1']);
    sameCode(p, ['hs_evt_read', 'hs_evt_write']);
    expect(p.post.relocsIn('hs_evt_read').some((r) => r.symbol === '.bss.reads.2')).toBe(true);
  },
  'new-bss-global': (p) => expectIn(p.post, 'hs_pool_failures', 'OBJECT', '.bss.hs_pool_failures'),
  'changed-const-table': (p) => {
    expectIn(p.post, 'hs_mtu_table', 'OBJECT', '.rodata.hs_mtu_table');
    expect(p.post.symbolBytes('hs_mtu_table').equals(p.pre.symbolBytes('hs_mtu_table'))).toBe(false);
  },
  'new-const-table': (p) => expectIn(p.post, 'hs_prio_weights', 'OBJECT', '.rodata.hs_prio_weights'),
  'printk-once': (p) => {
    for (const o of [p.pre, p.post]) expectIn(o, '__already_done.0', 'OBJECT', '.data.once');
  },
  // pr_debug descriptors live in __dyndbg in both builds (CONFIG_DYNAMIC_DEBUG=y): what the dyndbg cases are about.
  'dyndbg-line-shift': (p) => {
    for (const o of [p.pre, p.post]) expect(o.hasSection('__dyndbg')).toBe(true);
  },
  'dyndbg-in-changed': (p) => {
    for (const o of [p.pre, p.post]) expect(o.hasSection('__dyndbg')).toBe(true);
    expect(p.post.relocsIn('hs_dbg_scale').some((r) => /ddebug|descriptor/.test(r.symbol) || r.symbol === '__dyndbg')).toBe(true);
  },
  'dyndbg-two-in-changed': (p) => {
    for (const o of [p.pre, p.post]) expect(o.hasSection('__dyndbg')).toBe(true);
  },
  'dyndbg-module-changed': (p) => {
    for (const o of [p.pre, p.post]) expect(o.hasSection('__dyndbg')).toBe(true);
  },
  // The __init function is in .init.text in both builds, with a pr_debug descriptor beside it.
  'init-line-shift': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_init_setup', 'FUNC', '.init.text');
      expect(o.hasSection('__dyndbg')).toBe(true);
    }
  },
  'init-change-with-line-shift': (p) => {
    for (const o of [p.pre, p.post]) expectIn(o, 'hs_init_setup', 'FUNC', '.init.text');
  },
  'merged-constant-label': (p) => {
    // The constant pool and the local label naming it, in both builds (the reason the fixture exists).
    for (const o of [p.pre, p.post]) expect(o.relocsIn('hs_msg_fill').some((r) => /^\.LC\d+$/.test(r.symbol))).toBe(true);
  },
  'func-strings-swapped': (p) => {
    // Same numbers, same strings, swapped symbol-table order (gas lists locals as the code first mentions them).
    const order = (o: ReadelfObject) => o.symbols.filter((x) => x.type === 'OBJECT').map((x) => `${x.name}=${o.symbolBytes(x.name).toString('latin1')}`);
    expect(order(p.pre)).toEqual(['__func__.1=hs_sequence\0', '__func__.0=hs_replay_entry\0']);
    expect(order(p.post)).toEqual(['__func__.0=hs_replay_entry\0', '__func__.1=hs_sequence\0']);
  },
  'module-vmlinux-static-call': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(tablePointsInto(o, '.static_call_sites', 'hs_mod_sum')).toBe(true);
      expect(o.symbol('__SCT__might_resched')?.section).toBeUndefined(); // imported, not defined
      expect(o.relocsIn('hs_mod_sum').some((r) => r.symbol === '__SCT__might_resched')).toBe(true);
    }
  },
  'module-own-static-key': (p) => {
    for (const o of [p.pre, p.post]) {
      expectIn(o, 'hs_mod_fast', 'OBJECT');
      expect(tablePointsInto(o, '__jump_table', 'hs_mod_pick')).toBe(true);
    }
  },
  'static-call': (p) => {
    for (const o of [p.pre, p.post]) {
      expect(tablePointsInto(o, '.static_call_sites', 'hs_hash_buf')).toBe(true);
      expectIn(o, '__SCT__hs_hash', 'FUNC', '.static_call.text');
    }
  },
  'new-cold-part': (p) => {
    expect(p.pre.symbol('hs_sg_map.cold')).toBeUndefined();
    expectIn(p.post, 'hs_sg_map.cold', 'FUNC', '.text.unlikely.hs_sg_map');
  },
  'changed-static-local-initializer': (p) => {
    sameCode(p);
    expect(p.post.symbolBytes('budget.0').equals(p.pre.symbolBytes('budget.0'))).toBe(false);
  },
};

describe('objdiff fixture corpus (compiled as Debian kernel objects)', () => {
  let objects: Map<string, Pair>;

  beforeAll(async () => {
    useKernel(kernel);
    const started = Date.now();
    const compiled = await compileAll(cases);
    objects = new Map(
      await Promise.all(
        cases.map(async (c) => {
          const o = compiled.get(c.name)!;
          const [pre, post] = await Promise.all([ReadelfObject.read(o.pre), ReadelfObject.read(o.post)]);
          return [c.name, { pre, post }] as const;
        }),
      ),
    );
    console.log(`objdiff fixtures: ${cases.length * 2} objects ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('has at least 40 cases, each with a claim checked below', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.map((c) => c.name).filter((n) => !claims[n])).toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as [string, FixtureCase]))('%s', (name, c) => {
    const p = objects.get(name)!;
    const e = c.expect;
    // Every object went through objtool and has ftrace call sites.
    for (const o of [p.pre, p.post]) {
      expect(o.hasSection('__mcount_loc'), `${o.file}: __mcount_loc`).toBe(true);
      expect(o.hasSection('.orc_unwind'), `${o.file}: .orc_unwind`).toBe(true);
      expect(o.hasSection('.orc_unwind_ip'), `${o.file}: .orc_unwind_ip`).toBe(true);
    }
    // pre and post differ, except when they are the same source.
    expect(p.pre.bytes.equals(p.post.bytes)).toBe(e.sameBytes === true);
    if (e.sameBytes) expect(c.pre).toBe(c.post);
    // The names the differ must report exist where the expectation says.
    const preFuncs = new Set(p.pre.defined('FUNC'));
    const postFuncs = new Set(p.post.defined('FUNC'));
    const preData = new Set(p.pre.defined('OBJECT'));
    const postData = new Set(p.post.defined('OBJECT'));
    for (const fn of e.changed) {
      expect(postFuncs.has(fn), `changed ${fn} is a function in post`).toBe(true);
      expect(preFuncs.has(fn), `changed ${fn} is a function in pre`).toBe(true);
    }
    for (const fn of e.new) {
      expect(postFuncs.has(fn), `new ${fn} is a function in post`).toBe(true);
      expect(preFuncs.has(fn), `new ${fn} is not in pre`).toBe(false);
      expect(fn.endsWith('.cold'), 'a .cold part is never a function of its own').toBe(false);
    }
    for (const d of e.newData ?? []) {
      expect(postData.has(d), `new data ${d} is an object in post`).toBe(true);
      expect(preData.has(d), `new data ${d} is not in pre`).toBe(false);
    }
    for (const s of e.refused ?? []) {
      expect(p.post.symbol(s)?.section, `refused ${s} is defined in post`).toBeDefined();
      expect(p.pre.symbol(s)?.section, `refused ${s} is defined in pre`).toBeDefined();
    }
    if (e.refused?.length) expect(e.refusedReason).toBeTruthy();
    // A case where nothing may be reported has identical code in every function.
    if (!e.changed.length && !e.new.length && !(e.newData ?? []).length && !(e.refused ?? []).length) sameCode(p);
    claims[name]!(p);
  });
});

describe('kernel-flag compiler', () => {
  let dir: string;
  beforeAll(async () => {
    useKernel(kernel);
    dir = await mkdtemp(join(tmpdir(), 'hs-kcc-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('splits a kbuild command line like /bin/sh', () => {
    expect(shellWords(`gcc -DKBUILD_MODFILE='"fs/proc/proc"' -D"A=b c" x\\ y ; objtool --orc a.o`)).toEqual([
      'gcc', '-DKBUILD_MODFILE="fs/proc/proc"', '-DA=b c', 'x y', ';', 'objtool', '--orc', 'a.o',
    ]);
  });

  it("takes gcc's and objtool's flags from the reference object's kbuild .cmd file", async () => {
    const cmd = await kbuildCommand(kernel);
    expect(cmd.cc).toBe('gcc-12');
    expect(cmd.cflags).toEqual(expect.arrayContaining(['-ffunction-sections', '-fdata-sections', `-fdebug-prefix-map=${kernel.sourceTree}=.`, '-mfentry', '-D__KERNEL__']));
    expect(cmd.cflags.filter((f) => /^-Wp,|KBUILD_|^-[co]$/.test(f))).toEqual([]);
    expect(cmd.cflags[cmd.cflags.indexOf('-include') + 1]).toMatch(/^\.\/include\//);
    expect(cmd.objtool).toBe('./tools/objtool/objtool');
    expect(cmd.objtoolArgs).toEqual(expect.arrayContaining(['--orc', '--retpoline', '--rethunk', '--static-call', '--uaccess']));
    expect(cmd.objtoolArgs).not.toContain('--module');
    // A line cut short by a concurrent rewrite is rejected, not half used.
    const line = readFileSync(join(kernel.sourceTree, 'fs/proc/.version.o.cmd'), 'utf8').split('\n', 1)[0]!;
    expect(() => parseKbuildCmd(line.slice(0, line.indexOf(' -O2')))).toThrow(/incomplete/);
  });

  it('adds -DMODULE and objtool --module for module objects', async () => {
    const builtin = await compileArgs('a.o');
    const mod = await compileArgs('a.o', { module: 'hs_mod' });
    expect(builtin.defines).not.toContain('-DMODULE');
    expect(builtin.defines).toContain('-DKBUILD_MODNAME="a"');
    expect(mod.defines).toEqual(expect.arrayContaining(['-DMODULE', '-DKBUILD_MODNAME="hs_mod"', '-DKBUILD_BASENAME="a"']));
    expect(mod.objtoolArgs).toContain('--module');
    expect(builtin.objtoolArgs).not.toContain('--module');
  });

  it("surfaces gcc's errors", async () => {
    await expect(compileKernelC('int broken(void) { return undeclared_thing; }\n', join(dir, 'broken.o'))).rejects.toThrow(/undeclared_thing/);
  });

  it('fails on warnings in strict mode', async () => {
    const src = 'int hs_warns(void) { int unused; return 1; }\n';
    await compileKernelC(src, join(dir, 'warns.o'));
    await expect(compileKernelC(src, join(dir, 'warns.o'), { strict: true })).rejects.toThrow(/unused variable/);
  });

  it('gives the same bytes for the same source (temporary paths are mapped away)', async () => {
    const src = '#include <linux/bug.h>\nint hs_same(int x) { WARN_ON(x > 3); return x + 1; }\n';
    await compileKernelC(src, join(dir, 'same.o'));
    const first = readFileSync(join(dir, 'same.o'));
    await compileKernelC(src, join(dir, 'same.o'));
    expect(readFileSync(join(dir, 'same.o')).equals(first)).toBe(true);
    expect(first.includes(Buffer.from(tmpdir()))).toBe(false);
  });
});
