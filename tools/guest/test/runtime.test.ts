import { describe, expect, it } from 'vitest';
import { parseLdd } from '../src/node-runtime';
import { qemuArgs } from '../src/qemu';

describe('guest runtime pieces', () => {
  it('reads library and loader paths from ldd output', () => {
    const ldd = `\tlinux-vdso.so.1 (0x00007ff3c7965000)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007ff3c794e000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007ff3c7600000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007ff3c7967000)
`;
    expect(parseLdd(ldd)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('boots under TCG with the serial console and no reboot', () => {
    const args = qemuArgs({ kernel: '/k/vmlinuz', initrd: '/k/initrd', timeoutMs: 1000 });
    expect(args.slice(0, 2)).toEqual(['-accel', 'tcg']);
    expect(args).toContain('-no-reboot');
    expect(args[args.indexOf('-kernel') + 1]).toBe('/k/vmlinuz');
    expect(args[args.indexOf('-append') + 1]).toBe('console=ttyS0 panic=-1 oops=panic quiet');
  });
});
