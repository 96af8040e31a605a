import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

/**
 * Whether kbuild builds an object in this configuration, read from the Makefiles (scripts/Makefile.build
 * semantics, the common forms): `obj-$(CONFIG_X) += a.o`, composites `foo-$(CONFIG_Y) += a.o` with `obj-… += foo.o`,
 * and the directory itself reached through its parent's `obj-$(CONFIG_Z) += dir/`. Top-level directories are
 * always descended into. Unknown forms count as built (a header patch then rebuilds one object too many, never
 * one too few).
 */
export class KbuildConfig {
  private readonly makefiles = new Map<string, Promise<Map<string, string[]>>>();

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

  /** `$(CONFIG_X)` expanded as make does: its value, or empty when unset. */
  private expand(cond: string): string {
    const m = /^\$\((CONFIG_\w+)\)$/.exec(cond);
    return m ? (this.config.get(m[1]) ?? '') : cond;
  }

  /**
   * A directory's kbuild lists after make's assignments, in order: `x-$(CONFIG_A) := …` replaces the list it
   * expands to (fs/proc: `proc-y := nommu.o …` then `proc-$(CONFIG_MMU) := task_mmu.o`), `+=` appends. Only the
   * lists that kbuild builds from (suffix y, m or objs) are kept.
   */
  private lists(dir: string) {
    let lists = this.makefiles.get(dir);
    if (!lists) {
      lists = (async () => {
        // kbuild reads a directory's Kbuild file in preference to its Makefile (scripts/Makefile.build).
        const text = await readFile(posix.join(this.tree, dir, 'Kbuild'), 'utf8')
          .catch(() => readFile(posix.join(this.tree, dir, 'Makefile'), 'utf8'))
          .catch(() => '');
        const out = new Map<string, string[]>();
        for (const m of text.replace(/\\\n/g, ' ').matchAll(/^[ \t]*([\w.-]+)-(y|m|objs|\$\(CONFIG_\w+\))[ \t]*([:+]?=)(.*)$/gm)) {
          const suffix = this.expand(m[2]);
          if (suffix !== 'y' && suffix !== 'm' && suffix !== 'objs') continue;
          const items = m[4].split(/\s+/).filter(Boolean);
          out.set(m[1], m[3] === '+=' ? [...(out.get(m[1]) ?? []), ...items] : items);
        }
        return out;
      })();
      this.makefiles.set(dir, lists);
    }
    return lists;
  }

  /** Is `<dir>/<name>` (an object `x.o` or a subdirectory `sub/`) part of the build? */
  async built(path: string, depth = 0): Promise<boolean> {
    if (depth > 8) return true;
    const isDir = path.endsWith('/');
    const clean = isDir ? path.slice(0, -1) : path;
    const dir = posix.dirname(clean);
    const name = posix.basename(clean) + (isDir ? '/' : '');
    if (isDir && dir === '.') return true;
    if (dir !== '.' && !(await this.built(`${dir}/`, depth + 1))) return false;
    const lists = await this.lists(dir);
    if (!lists.size) return true; // no Makefile we can read: assume built
    for (const [list, items] of lists) {
      if (!items.includes(name)) continue;
      if (list === 'obj' || list === 'lib') return true;
      // A composite object (`foo-y += a.o`): built when foo.o is.
      if (await this.built(`${dir === '.' ? '' : `${dir}/`}${list}.o`, depth + 1)) return true;
    }
    return false;
  }
}
