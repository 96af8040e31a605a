import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

/** A directory's kbuild lists by name; `readable`: a Kbuild or Makefile was there to read. */
type Lists = Map<string, string[]> & { readable?: boolean };

/** A kbuild list assignment: `name-<suffix> [:+]= items`, the suffix y, m, objs or a config option make expands. */
const OPTION = '\\$[({]CONFIG_\\w+[)}]';
const ASSIGNMENT = new RegExp(
  `^[ \\t]*([\\w.-]+)-(y|m|objs|${OPTION}|\\$\\(subst m,y,${OPTION}\\)|\\$\\(subst y,${OPTION},${OPTION}\\))[ \\t]*([:+]?=)(.*)$`,
  'gm',
);

/**
 * Whether kbuild builds an object in this configuration, read from the Makefiles (scripts/Makefile.build
 * semantics, the common forms): `obj-$(CONFIG_X) += a.o`, composites `foo-$(CONFIG_Y) += a.o` with `obj-… += foo.o`,
 * and the directory itself reached through its parent's `obj-$(CONFIG_Z) += dir/`. Top-level directories are
 * always descended into. Unknown forms count as built (a header patch then rebuilds one object too many, never
 * one too few).
 */
export class KbuildConfig {
  private readonly makefiles = new Map<string, Promise<Lists>>();

  constructor(
    private readonly tree: string,
    private readonly config: Map<string, string>,
  ) {}

  static async load(tree: string): Promise<KbuildConfig> {
    const config = new Map<string, string>();
    for (const line of (await readFile(posix.join(tree, '.config'), 'utf8')).split('\n')) {
      const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
      if (m) config.set(m[1], m[2]);
    }
    return new KbuildConfig(tree, config);
  }

  /**
   * A list suffix expanded as make does: `$(CONFIG_X)` or `${CONFIG_X}` is its value (empty when unset);
   * `$(subst m,y,$(CONFIG_X))` makes a module option's built-in part (net/8021q: vlan_core.o) y.
   */
  private expand(cond: string): string {
    const option = /^\$[({](CONFIG_\w+)[)}]$/.exec(cond);
    if (option) return this.config.get(option[1]!) ?? '';
    const subst = /^\$\(subst m,y,\$[({](CONFIG_\w+)[)}]\)$/.exec(cond);
    if (subst) return (this.config.get(subst[1]!) ?? '').replace('m', 'y');
    // net/l2tp: `obj-$(subst y,$(CONFIG_L2TP),$(CONFIG_L2TP_IP))`: a sub-option's y becomes its parent's value.
    const parent = /^\$\(subst y,\$[({](CONFIG_\w+)[)}],\$[({](CONFIG_\w+)[)}]\)$/.exec(cond);
    if (parent) return (this.config.get(parent[2]!) ?? '').replace('y', this.config.get(parent[1]!) ?? '');
    return cond;
  }

  /**
   * A directory's kbuild lists after make's assignments, in order: `x-$(CONFIG_A) := …` replaces the list it
   * expands to (fs/proc: `proc-y := nommu.o …` then `proc-$(CONFIG_MMU) := task_mmu.o`), `+=` appends. Only the
   * lists that kbuild builds from (suffix y, m or objs) are kept.
   */
  private lists(dir: string, file?: string) {
    const key = file ? `${dir}/${file}` : dir;
    let lists = this.makefiles.get(key);
    if (!lists) {
      lists = (async () => {
        // kbuild reads a directory's Kbuild file in preference to its Makefile (scripts/Makefile.build).
        const text = await (file ? readFile(posix.join(this.tree, dir, file), 'utf8') : readFile(posix.join(this.tree, dir, 'Kbuild'), 'utf8'))
          .catch(() => readFile(posix.join(this.tree, dir, 'Makefile'), 'utf8'))
          .catch(() => undefined);
        const out: Lists = new Map();
        out.readable = text !== undefined;
        if (text === undefined) return out;
        for (const m of text.replace(/\\\n/g, ' ').matchAll(ASSIGNMENT)) {
          const suffix = this.expand(m[2]);
          if (suffix !== 'y' && suffix !== 'm' && suffix !== 'objs') continue;
          // A list that names itself (crypto: `crypto_algapi-y := algapi.o … $(crypto_algapi-y)`) keeps what it had.
          const own = new RegExp(`^\\$\\(${m[1]!.replace(/[.]/g, '\\.')}-(y|objs)\\)$`);
          const items = m[4]
            .split(/\s+/)
            .filter(Boolean)
            .map((item) => item.replace(/\$\(BITS\)/g, '64')) // arch/x86/Makefile: BITS := 64 on x86-64
            .flatMap((item) => (own.test(item) ? (out.get(m[1]) ?? []) : [item]));
          out.set(m[1], m[3] === '+=' ? [...(out.get(m[1]) ?? []), ...items] : items);
        }
        return out;
      })();
      this.makefiles.set(key, lists);
    }
    return lists;
  }

  /**
   * Is `path` (an object `dir/x.o` or a directory `dir/sub/`) part of the build? The nearest Makefile above it
   * that names it decides: its own directory's (`obj-y += x.o`), or an ancestor's for composite members in
   * subdirectories (drivers/staging/rtl8723bs: `r8723bs-y = core/rtw_ap.o …`). A list may name other lists
   * (mm/Makefile: `obj-y += $(mmu-y)`).
   */
  async built(path: string, depth = 0): Promise<boolean> {
    if (depth > 8) return true;
    const isDir = path.endsWith('/');
    const clean = isDir ? path.slice(0, -1) : path;
    // This tree is built for x86 (SRCARCH): the top Makefile includes arch/x86/Makefile and no other arch's.
    if (/^arch\/[^/]+/.test(clean) && !/^arch\/x86(\/|$)/.test(clean)) return false;
    if (isDir && posix.dirname(clean) === '.') return true;
    for (let dir = posix.dirname(clean); ; dir = posix.dirname(dir)) {
      const name = posix.relative(dir, clean) + (isDir ? '/' : '');
      const lists = await this.lists(dir);
      for (const [list] of lists) {
        if (!this.members(lists, list).includes(name)) continue;
        if (dir !== '.' && !(await this.built(`${dir}/`, depth + 1))) return false;
        if (list === 'obj' || list === 'lib') return true;
        // A composite object (`foo-y += a.o`): built when foo.o is.
        if (await this.built(`${dir === '.' ? '' : `${dir}/`}${list}.o`, depth + 1)) return true;
      }
      if (dir === '.') break;
    }
    // The arch Makefile adds directories and objects by their tree path (`drivers-$(CONFIG_PCI) += arch/x86/pci/`,
    // `libs-y += arch/x86/lib/`, `head-y := arch/x86/kernel/head_64.o`).
    const arch = await this.lists('arch/x86', 'Makefile');
    for (const list of ['core', 'libs', 'drivers', 'head']) if (this.members(arch, list).includes(path)) return true;
    // Named nowhere: built only if its own directory has no Makefile we can read (assume built) and is built. A
    // Makefile whose every line is off in this config (drivers/gpu/drm/panel: no panel of x86's) builds nothing.
    const own = posix.dirname(clean);
    return !(await this.lists(own)).readable && (own === '.' || (await this.built(`${own}/`, depth + 1)));
  }

  /** The items of `list`, with references to other lists (`$(mmu-y)`, `$(foo-objs)`) replaced by their items. */
  private members(lists: Map<string, string[]>, list: string, seen = new Set<string>()): string[] {
    if (seen.has(list)) return [];
    seen.add(list);
    return (lists.get(list) ?? []).flatMap((item) => {
      const ref = /^\$\(([\w.-]+)-(y|m|objs)\)$/.exec(item);
      return ref ? this.members(lists, ref[1]!, seen) : [item];
    });
  }
}
