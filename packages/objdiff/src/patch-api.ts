import { definedInSection } from '@hotsplice/elf';
import { targetUnit } from './correlate';
import type { ObjectModel, Unit } from './model';
import type { CallbackKind } from './types';

/** Every section <linux/hotsplice.h> (and kpatch-macros.h on top of it) puts a registration in. */
export const PATCH_API_SECTION = /^\.hotsplice\./;

const CALLBACK = /^\.hotsplice\.(pre_patch|post_patch|pre_unpatch|post_unpatch)$/;

export interface Callback {
  kind: CallbackKind;
  unit: Unit;
  /** `int fn(struct klp_object *obj)` rather than `int fn(void)` (struct hotsplice_callback.takes_object). */
  takesObject: boolean;
  newSymbol: string;
}

/** What the patch told the differ through <linux/hotsplice.h>, read from the post object. */
export interface PatchApi {
  /** Callbacks per kind in source order (the order of their registrations in the section). */
  callbacks: Callback[];
  /** hotsplice_ignore_function / KPATCH_IGNORE_FUNCTION: changes to these are side effects, not the fix. */
  ignoredFunctions: Set<Unit>;
  /** hotsplice_ignore_section / KPATCH_IGNORE_SECTION: the same for every unit of these sections. */
  ignoredSections: Set<string>;
  /** hotsplice_force_unsafe / KPATCH_FORCE_UNSAFE. */
  forced: Set<Unit>;
  refused: Array<{ symbol: string; reason: string }>;
}

/** The registrations of the patch API in the post object (the registrations themselves are never new data). */
export function readPatchApi(post: ObjectModel, preTwin: Map<Unit, Unit>, objname: string): PatchApi {
  const api: PatchApi = { callbacks: [], ignoredFunctions: new Set(), ignoredSections: new Set(), forced: new Set(), refused: [] };
  const registrations = post.units.filter((u) => PATCH_API_SECTION.test(u.section.name)).sort((a, b) => a.start - b.start);
  for (const entry of registrations) {
    const section = entry.section.name;
    const reloc = entry.relocs.find((r) => r.offset === 0);
    const target = reloc && targetUnit(post, reloc);
    const kind = CALLBACK.exec(section)?.[1] as CallbackKind | undefined;
    if (kind) {
      if (!target || target.kind !== 'function' || preTwin.has(target)) {
        api.refused.push({ symbol: entry.name, reason: `hotsplice_${kind}() must name a function the patch adds` });
        continue;
      }
      // struct hotsplice_callback { void *function; unsigned long takes_object; } (kernel-module/include/linux/hotsplice.h)
      const takesObject = entry.size >= 16 && Buffer.from(entry.bytes).readBigUInt64LE(8) !== 0n;
      const newSymbol = `__hotsplice_${objname}__${kind}__${target.name}`.replace(/[^A-Za-z0-9_]/g, '_');
      api.callbacks.push({ kind, unit: target, takesObject, newSymbol });
    } else if (section === '.hotsplice.ignore_section') {
      const name = reloc && post.stringLabel(reloc.symbol);
      const text = name ? post.stringAt(name.sectionIndex, Number(name.offset + reloc!.addend)) : stringTarget(post, reloc);
      if (text) api.ignoredSections.add(text.text);
      else api.refused.push({ symbol: entry.name, reason: 'hotsplice_ignore_section() must name a section by a string constant' });
    } else if (section === '.hotsplice.ignore_function' || section === '.hotsplice.force_unsafe') {
      if (!target || target.kind !== 'function') {
        api.refused.push({ symbol: entry.name, reason: `${section.slice(1).replace('.', '_')}() must name a function of this file` });
      } else (section === '.hotsplice.force_unsafe' ? api.forced : api.ignoredFunctions).add(target);
    } else {
      api.refused.push({ symbol: entry.name, reason: `${section} is no registration <linux/hotsplice.h> knows` });
    }
  }
  return api;
}

/** A reference by section symbol + addend into a string section (gcc's usual form for a string constant). */
function stringTarget(post: ObjectModel, reloc: Unit['relocs'][number] | undefined) {
  const index = reloc && definedInSection(reloc.symbol);
  return reloc && index !== undefined ? post.stringAt(index, Number(reloc.addend)) : undefined;
}
