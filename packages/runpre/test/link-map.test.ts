// The package's link map moved by the KASLR slide: what apply reads instead of all of /proc/kallsyms.
import { mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlidLinkMap, linkMapOf } from '../src';

const dir = mkdtempSync(join(tmpdir(), 'hs-linkmap-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const SYSTEM_MAP = [
  '0000000000000000 A fixed_percpu_data',
  '000000000001f3c0 D runqueues',
  'ffffffff81000000 T _text',
  'ffffffff81000000 T _stext',
  'ffffffff81234560 t s_show',
  'ffffffff81456780 t s_show',
  'ffffffff82000000 D linux_proc_banner',
  '',
].join('\n');
const SLIDE = 0x21200000n;
const hex = (a: bigint) => a.toString(16).padStart(16, '0');
const KALLSYMS = [
  '0000000000000000 A fixed_percpu_data',
  '000000000001f3c0 D runqueues',
  `${hex(0xffffffff81000000n + SLIDE)} T _text`,
  `${hex(0xffffffff81000000n + SLIDE)} T _stext`,
  `${hex(0xffffffff83000000n + SLIDE)} T only_in_kallsyms`,
  `${hex(0xffffffffc0001000n)} t dummy_get_stats64\t[dummy]`,
  '',
].join('\n');

describe('link map', () => {
  it('keeps the System.map addresses of the names asked for, same-named ones in address order', () => {
    const map = linkMapOf(SYSTEM_MAP, ['s_show', 'runqueues', 'linux_proc_banner', 'absent']);
    expect(map).toEqual({
      anchor: { name: '_text', address: 'ffffffff81000000' },
      symbols: { absent: [], linux_proc_banner: ['ffffffff82000000'], runqueues: ['1f3c0'], s_show: ['ffffffff81234560', 'ffffffff81456780'] },
    });
  });

  it('moves kernel-image addresses by the slide of _text and leaves per-CPU offsets alone', () => {
    const live = SlidLinkMap.open(linkMapOf(SYSTEM_MAP, ['s_show', 'runqueues', 'version.c']), file('kallsyms', KALLSYMS))!;
    expect(live.slide).toBe(SLIDE);
    expect(live.symbols('s_show').map((s) => s.address)).toEqual([0xffffffff81234560n + SLIDE, 0xffffffff81456780n + SLIDE]);
    expect(live.symbols('runqueues').map((s) => s.address)).toEqual([0x1f3c0n]);
    // Known absent (a source file name): answered from the map, without reading kallsyms (gone now).
    const path = file('kallsyms-once', KALLSYMS);
    const once = SlidLinkMap.open(linkMapOf(SYSTEM_MAP, ['version.c']), path)!;
    unlinkSync(path);
    once.prefetch(['version.c']);
    expect(once.symbols('version.c')).toEqual([]);
    // A name the package did not list is looked up in all of kallsyms (vmlinux's only).
    expect(live.symbols('only_in_kallsyms').map((s) => s.address)).toEqual([0xffffffff83000000n + SLIDE]);
    expect(live.symbols('dummy_get_stats64')).toEqual([]);
  });

  it('gives up (so the caller reads all of kallsyms and names why) when _text is hidden', () => {
    const hidden = KALLSYMS.replace(/^[0-9a-f]{16}/gm, '0000000000000000');
    expect(SlidLinkMap.open(linkMapOf(SYSTEM_MAP, []), file('hidden', hidden))).toBeUndefined();
  });
});
