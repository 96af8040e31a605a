// Names that move between two builds of the same source (design.md §8): gcc numbers its clones and static
// locals per translation unit, so `foo.constprop.0` before may be `foo.constprop.1` after.

/** Drop the build-specific numbers, keep the kind: `foo.constprop.3` → `foo.constprop`, `__UNIQUE_ID_x12` → `__UNIQUE_ID_x`. */
export function normalizeName(name: string): string {
  return name
    .replace(/\.(constprop|isra|part|lto_priv|llvm)\.\d+/g, '.$1')
    .replace(/^(__UNIQUE_ID_[A-Za-z_]*?)_?\d+$/, '$1')
    .replace(/^(__(?:key|warned|already_done|print_once|func__|_func__)[A-Za-z_]*)\.\d+$/, '$1');
}

/** `foo.cold` (gcc's split-off unlikely part) belongs to `foo`. */
export function coldParent(name: string): string | undefined {
  const m = /^(.*)\.cold(?:\.\d+)?$/.exec(name);
  return m?.[1];
}

/** A function-scope static (`count.2`): gcc appends a number to keep same-named statics apart. */
export function isStaticLocalName(name: string): boolean {
  return /^[A-Za-z_][\w]*\.\d+$/.test(name) && !/\.(constprop|isra|part|cold)\.\d+$/.test(name);
}

/** The part before gcc's number: `count.2` → `count`. */
export function staticLocalBase(name: string): string {
  return name.replace(/\.\d+$/, '');
}
