import { describe, expect, it } from 'vitest';
import { allDeclarations } from '../src/c-declarations';
import { cTokens } from '../src/c-tokens';
import { declarationFacts } from '../src/declaration-facts';
import { changedElements } from '../src/line-diff';

const facts = (text: string) => declarationFacts(cTokens(text));

describe('declarationFacts: what a file-scope declaration declares, and whether it emits anything by itself', () => {
  it('names the declarator of prototypes, however the declarator is written', () => {
    // kthread.h's prototype after preprocessing: an attribute, a struct return type, a function-pointer parameter.
    expect(facts('__attribute__((__format__(printf, 4, 5))) struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node, const char namefmt[], ...);')).toEqual({
      names: ['kthread_create_on_node'],
    });
    expect(facts('void (*signal(int sig, void (*handler)(int)))(int);')).toEqual({ names: ['signal'] });
    expect(facts('int (isdigit)(int c);')).toEqual({ names: ['isdigit'] });
    expect(facts('extern unsigned long volatile jiffies, loops_per_jiffy;')).toEqual({ names: ['jiffies', 'loops_per_jiffy'] });
  });

  it('takes an identifier before any type as a typedef name, after one as the declarator', () => {
    expect(facts('extern size_t hs_len;')).toEqual({ names: ['hs_len'] });
    expect(facts('typedef int size_t;')).toEqual({ names: ['size_t'] });
    expect(facts('typedef void (*hs_fn_t)(void *);')).toEqual({ names: ['hs_fn_t'] });
  });

  it('names the tags a definition defines, nested ones and enumerators included', () => {
    expect(facts('struct hs_a { struct hs_b { int x; } b; enum hs_mode { HS_OFF, HS_ON = 3, } mode; struct hs_c *c; };')).toEqual({
      names: ['hs_a', 'hs_b', 'hs_mode', 'HS_OFF', 'HS_ON'],
    });
    expect(facts('enum { HS_X = (1 << 2), HS_Y };')).toEqual({ names: ['HS_X', 'HS_Y'] });
    expect(facts('typedef struct { int a; } hs_t;')).toEqual({ names: ['hs_t'] });
  });

  it('lets only static inline functions, types and declarations pass as emitting nothing', () => {
    const inline = 'static inline __attribute__((__gnu_inline__)) __attribute__((__unused__)) int hs_f(const struct hs_dev *d) { return d->w; }';
    expect(facts(inline)).toEqual({ names: ['hs_f'] });
    expect(facts('int hs_g(void) { return 1; }').emits).toBe('function hs_g');
    // The kernel's `inline` without static is gnu_inline: gcc emits an external definition.
    expect(facts('inline int hs_h(void) { return 1; }').emits).toBe('function hs_h');
    expect(facts('static int hs_count;').emits).toBe('definition of hs_count');
    expect(facts('int hs_tentative;').emits).toBe('definition of hs_tentative');
    expect(facts('static const int hs_levels[] = { 1, 2, 4 };').emits).toBe('definition of hs_levels');
    expect(facts('extern int hs_init = 1;').emits).toBe('definition of hs_init');
    expect(facts('static inline void hs_keep(void) __attribute__((__used__));').emits).toBe('attribute used');
    expect(facts('asm(".pushsection .hs; .popsection");').emits).toBe('top-level asm');
    expect(facts('_Static_assert(sizeof(int) == 4, "int");').emits).toBe('static assertion');
    expect(facts('#pragma pack(1)').emits).toBe('directive #pragma pack(1)');
    expect(facts('int hs_broken(').emits).toMatch(/^not understood/);
  });
});

describe('cutting a preprocessed unit into declarations', () => {
  it('ends a function at its body, a structure or initializer at the semicolon, and skips linemarkers', () => {
    const unit = Buffer.from(
      [
        '# 1 "hs.h"',
        'struct hs { int a; } __attribute__((aligned(8)));',
        'static inline int f(void) { return 1; } int g(void);',
        'static int t[] = { 1,',
        '# 7 "hs.h"',
        '  2 };',
        'int __attribute__((cold)) h(void) { if (1) { return 2; } return 3; }',
        '#pragma GCC diagnostic push',
        '',
      ].join('\n'),
    );
    const { spans, unterminated } = allDeclarations(unit);
    expect(unterminated).toBe(false);
    expect(spans.map((s) => unit.toString('latin1', s.from, s.to).replace(/\n# 7 "hs.h"\n/, ' '))).toEqual([
      'struct hs { int a; } __attribute__((aligned(8)));',
      'static inline int f(void) { return 1; }',
      'int g(void);',
      'static int t[] = { 1,   2 };',
      'int __attribute__((cold)) h(void) { if (1) { return 2; } return 3; }',
      '#pragma GCC diagnostic push',
    ]);
  });
});

describe('changedElements (Myers)', () => {
  const ids = (text: string) => Int32Array.from([...text].map((c) => c.charCodeAt(0)));
  it('marks exactly the elements outside one longest common subsequence', () => {
    const d = changedElements(ids('abcabba'), ids('cbabac'), 100)!;
    // Myers' paper's example: edit distance 5.
    expect([...d.a].filter(Boolean).length + [...d.b].filter(Boolean).length).toBe(5);
    expect(changedElements(ids('kthread'), ids('kthread'), 10)).toEqual({ a: new Uint8Array(7), b: new Uint8Array(7) });
    expect(changedElements(ids('ab'), ids('axb'), 10)).toEqual({ a: Uint8Array.from([0, 0]), b: Uint8Array.from([0, 1, 0]) });
  });

  it('gives up past the limit', () => {
    expect(changedElements(ids('aaaaaaaaaa'), ids('bbbbbbbbbb'), 5)).toBeUndefined();
  });
});
