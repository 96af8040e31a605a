import { defineConfig } from 'vitest/config';

// Three projects: `unit` stays fast (no kernel tree, no QEMU); `kernel` needs the prepared Debian kernel tree
// (gcc-12 objects built with the kernel's real flags); `e2e` boots the real Debian kernel under QEMU.
// The kernel is prepared once by the shared global setup (cached: ~1 s warm).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts'],
          exclude: ['**/test/kernel/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['packages/*/test/kernel/**/*.test.ts', 'tools/*/test/kernel/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 3_600_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 3_600_000,
        },
      },
    ],
  },
});
