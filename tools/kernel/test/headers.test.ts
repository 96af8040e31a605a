import { describe, expect, it } from 'vitest';
import { rewriteHeadersMakefile } from '../src/headers';

describe('headers Makefile rewrite', () => {
  const original = 'include /usr/src/linux-headers-6.1.0-56-common/Makefile\n';

  it('turns the absolute include into one relative to the Makefile itself', () => {
    expect(rewriteHeadersMakefile(original)).toBe(
      'include $(dir $(lastword $(MAKEFILE_LIST)))../linux-headers-6.1.0-56-common/Makefile\n',
    );
  });

  it('also for the rt flavour, whose headers include the -common-rt package (6.12.118+deb13-rt-amd64)', () => {
    expect(rewriteHeadersMakefile('include /usr/src/linux-headers-6.12.118+deb13-common-rt/Makefile\n')).toBe(
      'include $(dir $(lastword $(MAKEFILE_LIST)))../linux-headers-6.12.118+deb13-common-rt/Makefile\n',
    );
  });

  it('is idempotent', () => {
    const once = rewriteHeadersMakefile(original);
    expect(rewriteHeadersMakefile(once)).toBe(once);
  });

  it('refuses a Makefile without the expected include', () => {
    expect(() => rewriteHeadersMakefile('all:\n\techo hi\n')).toThrow(
      'headers Makefile has no "include /usr/src/linux-headers-*-common/Makefile" line',
    );
  });
});
