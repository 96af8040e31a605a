import { describe, expect, it } from 'vitest';
import { mergedFile } from '../src/merged-change';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const refusal = (before: string, after: string) => {
  const merged = mergedFile(before, after);
  return 'refused' in merged ? merged.refused : undefined;
};

describe('merging the two versions of a changed file into one', () => {
  const header = lines('#ifndef X_H', '#define X_H', 'static inline int x(void)', '{', '\treturn 1;', '}', '#endif');

  it('keeps both versions of a hunk between probes, with #line keeping each version’s line numbers', () => {
    const merged = mergedFile(header, header.replace('return 1;', 'return 2;'));
    expect(merged).toEqual({
      hunks: 1,
      text: lines(
        '#ifndef X_H',
        '#define X_H',
        'static inline int x(void)',
        '{',
        '__hotsplice_probe_0_0 __COUNTER__',
        '#line 5',
        '\treturn 1;',
        '__hotsplice_probe_0_1 __COUNTER__',
        '#line 5',
        '\treturn 2;',
        '__hotsplice_probe_0_2 __COUNTER__',
        '#line 6',
        '}',
        '#endif',
      ),
    });
  });

  it('takes an added line when nothing but directives and comments follows it', () => {
    expect(refusal(header, header.replace('#endif', 'static inline int y(void) { return 0; }\n/* end */\n#endif'))).toBeUndefined();
  });

  it('refuses what would make the preprocessor’s state depend on the version', () => {
    expect(refusal(header, header.replace('#define X_H', '#define X_H 1'))).toMatch(/^a changed line is a directive/);
    const macro = lines('#define M(a) \\', '\t((a) + 1)', 'int z;');
    expect(refusal(macro, macro.replace('+ 1', '+ 2'))).toMatch(/^a changed line is a directive or continues one|^a change inside a continued line/);
    expect(refusal(header, header.replace('\treturn 1;', '\treturn 1; /* open'))).toBe('a change opens or closes a comment');
    // A line more above code that may expand __LINE__ (a WARN_ON) would move its line number in one version only.
    expect(refusal(header, header.replace('{\n', '{\n\tint unused;\n'))).toBe('code after a change of the line count (__LINE__)');
  });
});
