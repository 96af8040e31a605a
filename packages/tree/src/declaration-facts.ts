import { isIdentifier } from './c-tokens';

/**
 * What one file-scope declaration of preprocessed C declares, and whether it can put anything into an object by
 * itself. It cannot when it is a typedef, a tag definition without declarators (`struct x { … };`), a declaration
 * of a function or an `extern` object without an initializer, or a `static inline` function definition: gcc emits a
 * static inline function only where it is called or its address is taken (and an unused one not at all). Every
 * other form — an object definition (static ones too: `-fno-toplevel-reorder` keeps unused statics), any function
 * definition that is not static inline, top-level `asm`, `_Static_assert`, a directive, an attribute that forces
 * a symbol out (`used`, `alias`, `constructor`, …), and anything this reader does not understand — can.
 */
export interface DeclarationFacts {
  /** The file-scope identifiers it declares: declarators, the tags it defines, the enumerators of those. */
  names: string[];
  /** Why it can emit code or data of its own; undefined when it cannot. */
  emits?: string;
}

const STORAGE = new Set(['typedef', 'extern', 'static', 'auto', 'register', '_Thread_local', '__thread']);
const INLINE = new Set(['inline', '__inline', '__inline__']);
const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', '__volatile__', '__volatile', '__const', '__const__', '_Atomic', '_Noreturn']);
const TYPES = new Set([
  'void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', '_Complex', '__complex__', '__int128',
  '__signed__', '__signed', '__unsigned__', '_Float16', '_Float32', '_Float64', '_Float128', '_Float32x', '_Float64x', '__float128',
  '__fp16', '_Decimal32', '_Decimal64', '_Decimal128', '__auto_type',
]);
/** Keywords followed by one parenthesized group that names a type. */
const TYPE_GROUPS = new Set(['typeof', '__typeof__', '__typeof', '_Atomic', '_Alignas', 'alignas']);
const ATTRIBUTES = new Set(['__attribute__', '__attribute']);
const ASM = new Set(['asm', '__asm__', '__asm']);
const AGGREGATES = new Set(['struct', 'union', 'enum']);
const KEYWORDS = new Set([
  ...STORAGE, ...INLINE, ...QUALIFIERS, ...TYPES, ...TYPE_GROUPS, ...ATTRIBUTES, ...ASM, ...AGGREGATES, '__extension__', 'sizeof',
  '_Alignof', '__alignof__', '_Static_assert', 'static_assert', '_Generic', 'if', 'else', 'for', 'while', 'do', 'switch', 'case',
  'default', 'return', 'break', 'continue', 'goto',
]);
/** GCC attributes that make a symbol exist whether or not anything uses it. */
const FORCING = new Set(['used', 'alias', 'constructor', 'destructor', 'externally_visible', 'ifunc', 'weakref', 'symver', 'retain']);

class NotUnderstood extends Error {}

export function declarationFacts(tokens: string[]): DeclarationFacts {
  try {
    return new Reader(tokens).declaration();
  } catch (err) {
    if (err instanceof NotUnderstood) return { names: [], emits: `not understood (${err.message})` };
    throw err;
  }
}

class Reader {
  private i = 0;
  private readonly names: string[] = [];
  private readonly attributes: string[] = [];

  constructor(private readonly t: string[]) {}

  declaration(): DeclarationFacts {
    const t = this.t;
    const first = t[0] ?? ';';
    if (first.startsWith('#')) return { names: [], emits: `directive ${first.slice(0, 40)}` };
    if (ASM.has(first)) return { names: [], emits: 'top-level asm' };
    if (first === '_Static_assert' || first === 'static_assert') return { names: [], emits: 'static assertion' };
    const flags = this.specifiers();
    const declarators: Array<{ name: string; fn: boolean; init: boolean }> = [];
    let body = false;
    if (t[this.i] !== ';') {
      for (;;) {
        const d = this.declarator();
        this.trailing();
        let init = false;
        if (t[this.i] === '=') {
          init = true;
          this.skipInitializer();
        }
        declarators.push({ name: d.name, fn: d.fn, init });
        if (t[this.i] === ',') {
          this.i++;
          continue;
        }
        if (t[this.i] === '{' && declarators.length === 1 && d.fn && !init) {
          this.i = this.close(this.i) + 1;
          body = true;
          break;
        }
        if (t[this.i] === ';') break;
        throw new NotUnderstood(`unexpected ${t[this.i] ?? 'end'} after ${d.name}`);
      }
    }
    if (!body) {
      if (t[this.i] !== ';') throw new NotUnderstood('no ;');
      this.i++;
    }
    if (this.i !== t.length) throw new NotUnderstood(`text after the end: ${t[this.i]}`);
    this.names.push(...declarators.map((d) => d.name));
    const names = [...new Set(this.names)];
    const forcing = this.attributes.find((a) => FORCING.has(a));
    if (forcing) return { names, emits: `attribute ${forcing}` };
    if (body) return flags.has('static') && flags.has('inline') ? { names } : { names, emits: `function ${declarators[0]!.name}` };
    if (flags.has('typedef')) return { names };
    const defined = declarators.find((d) => d.init || (!d.fn && !flags.has('extern')));
    return defined ? { names, emits: `definition of ${defined.name}` } : { names };
  }

  /** Storage classes, qualifiers, attributes and the type, up to the first declarator. */
  private specifiers(): Set<string> {
    const t = this.t;
    const flags = new Set<string>();
    let type = false;
    for (;;) {
      const w = t[this.i];
      if (w === undefined) throw new NotUnderstood('no declarator');
      if (w === '__extension__') this.i++;
      else if (STORAGE.has(w)) flags.add(w), this.i++;
      else if (INLINE.has(w)) flags.add('inline'), this.i++;
      else if (ATTRIBUTES.has(w)) this.attribute();
      else if (TYPE_GROUPS.has(w) && t[this.i + 1] === '(') (this.i = this.close(this.i + 1) + 1), (type = true);
      else if (QUALIFIERS.has(w)) this.i++;
      else if (TYPES.has(w)) (type = true), this.i++;
      else if (AGGREGATES.has(w)) this.aggregate(), (type = true);
      // Before any type specifier an identifier can only be a typedef name (implicit int is an error in gnu11).
      else if (!type && isIdentifier(w) && !KEYWORDS.has(w)) (type = true), this.i++;
      else break;
    }
    if (!type) throw new NotUnderstood('no type');
    return flags;
  }

  /** `struct|union|enum [attributes] [tag] [attributes] [{ … }]`: a body defines the tag and everything in it. */
  private aggregate(): void {
    const t = this.t;
    const keyword = this.i++;
    while (ATTRIBUTES.has(t[this.i] ?? '')) this.attribute();
    if (isIdentifier(t[this.i] ?? '') && !KEYWORDS.has(t[this.i]!)) this.i++; // the tag
    while (ATTRIBUTES.has(t[this.i] ?? '')) this.attribute();
    if (t[this.i] !== '{') return;
    const end = this.close(this.i);
    this.definitionsIn(keyword, end);
    this.i = end + 1;
    while (ATTRIBUTES.has(t[this.i] ?? '')) this.attribute();
  }

  /**
   * Tags defined inside [from, to] (C gives nested struct, union and enum tags file scope) and the enumerators of
   * every enum body there.
   */
  private definitionsIn(from: number, to: number): void {
    const t = this.t;
    for (let p = from; p < to; p++) {
      if (!AGGREGATES.has(t[p]!)) continue;
      let q = p + 1;
      while (ATTRIBUTES.has(t[q] ?? '')) q = this.close(q + 1) + 1;
      const tag = isIdentifier(t[q] ?? '') && !KEYWORDS.has(t[q]!) ? t[q++] : undefined;
      while (ATTRIBUTES.has(t[q] ?? '')) q = this.close(q + 1) + 1;
      if (t[q] !== '{') continue;
      if (tag) this.names.push(tag);
      if (t[p] === 'enum') this.enumerators(q, this.close(q));
    }
  }

  /** The names of an enum body's enumerators: the first token of each comma-separated item. */
  private enumerators(open: number, close: number): void {
    const t = this.t;
    let depth = 0;
    let itemStart = true;
    for (let p = open + 1; p < close; p++) {
      const w = t[p]!;
      if (depth === 0 && itemStart && isIdentifier(w)) this.names.push(w);
      itemStart = false;
      if (w === '(' || w === '[' || w === '{') depth++;
      else if (w === ')' || w === ']' || w === '}') depth--;
      else if (w === ',' && depth === 0) itemStart = true;
    }
  }

  /** A declarator: pointers, qualifiers, a name or a parenthesized declarator, then array and parameter suffixes. */
  private declarator(): { name: string; fn: boolean; plain: boolean } {
    const t = this.t;
    let pointer = false;
    for (;;) {
      const w = t[this.i];
      if (w === '*') (pointer = true), this.i++;
      else if (QUALIFIERS.has(w ?? '')) this.i++;
      else if (ATTRIBUTES.has(w ?? '')) this.attribute();
      else break;
    }
    let name: string;
    let fn = false;
    // `plain`: the declarator is a bare name, maybe parenthesized (`(f)`). A parameter list right after a name, or
    // after a parenthesized bare name, declares a function (`*f(void)`, `(f)(int)`); after `(*fp)` it does not.
    let plain: boolean;
    let bindsParameters: boolean;
    if (t[this.i] === '(') {
      this.i++;
      const inner = this.declarator();
      if (t[this.i] !== ')') throw new NotUnderstood(`unexpected ${t[this.i] ?? 'end'} in (${inner.name}`);
      this.i++;
      name = inner.name;
      fn = inner.fn;
      plain = !pointer && inner.plain;
      bindsParameters = inner.plain;
    } else if (isIdentifier(t[this.i] ?? '') && !KEYWORDS.has(t[this.i]!)) {
      name = t[this.i++]!;
      plain = !pointer;
      bindsParameters = true;
    } else {
      throw new NotUnderstood(`no declarator name at ${t[this.i] ?? 'end'}`);
    }
    let firstSuffix = true;
    while (t[this.i] === '[' || t[this.i] === '(') {
      if (t[this.i] === '(' && firstSuffix && bindsParameters) fn = true;
      this.i = this.close(this.i) + 1;
      firstSuffix = false;
    }
    plain &&= firstSuffix;
    return { name, fn, plain };
  }

  /** Attributes and an asm label after a declarator. */
  private trailing(): void {
    const t = this.t;
    for (;;) {
      const w = t[this.i] ?? '';
      if (ATTRIBUTES.has(w)) this.attribute();
      else if (ASM.has(w) && t[this.i + 1] === '(') this.i = this.close(this.i + 1) + 1;
      else return;
    }
  }

  /** `__attribute__((a, b(x), __c__))`: notes a, b, c (underscores stripped). */
  private attribute(): void {
    const t = this.t;
    const open = this.i + 1;
    if (t[open] !== '(') throw new NotUnderstood('__attribute__ without (');
    const close = this.close(open);
    let depth = 0;
    for (let p = open; p < close; p++) {
      const w = t[p]!;
      if (w === '(') depth++;
      else if (w === ')') depth--;
      else if (depth === 2 && isIdentifier(w) && (t[p - 1] === '(' || t[p - 1] === ',')) this.attributes.push(w.replace(/^__(.*)__$/, '$1'));
    }
    this.i = close + 1;
  }

  private skipInitializer(): void {
    const t = this.t;
    let depth = 0;
    for (this.i++; this.i < t.length; this.i++) {
      const w = t[this.i]!;
      if (w === '(' || w === '[' || w === '{') depth++;
      else if (w === ')' || w === ']' || w === '}') depth--;
      else if (depth === 0 && (w === ',' || w === ';')) return;
    }
  }

  /** The index of the bracket closing the one at `open`. */
  private close(open: number): number {
    const t = this.t;
    const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
    const want = pairs[t[open]!];
    if (!want) throw new NotUnderstood(`expected a bracket at ${t[open] ?? 'end'}`);
    let depth = 0;
    for (let p = open; p < t.length; p++) {
      const w = t[p]!;
      if (w === '(' || w === '[' || w === '{') depth++;
      else if (w === ')' || w === ']' || w === '}') {
        depth--;
        if (depth === 0) {
          if (w !== want) throw new NotUnderstood(`${t[open]} closed by ${w}`);
          return p;
        }
      }
    }
    throw new NotUnderstood(`unclosed ${t[open]}`);
  }
}
