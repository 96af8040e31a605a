import { spawn } from 'node:child_process';
import { MARK } from './init-script';

export interface BootOptions {
  kernel: string;
  initrd: string;
  timeoutMs: number;
  memoryMiB?: number;
  append?: string;
  /** Raw disk images attached as virtio disks, in order (/dev/vda, /dev/vdb…). */
  drives?: string[];
  /** Each console line as it arrives (streaming). */
  onLine?: (line: string) => void;
}

export interface BootResult {
  console: string;
  timedOut: boolean;
  /** Host seconds from starting QEMU to /init's first marker. */
  bootSeconds: number | null;
  totalSeconds: number;
  exitCode: number | null;
}

/** The QEMU command line: TCG (nested KVM hangs here, design.md §9), serial console on stdio, no reboot. */
export function qemuArgs(options: BootOptions): string[] {
  return [
    '-accel', 'tcg',
    '-cpu', 'max',
    '-m', `${options.memoryMiB ?? 1024}M`,
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', options.kernel,
    '-initrd', options.initrd,
    // panic=-1: reboot at once on panic, which -no-reboot turns into QEMU exiting.
    '-append', options.append ?? 'console=ttyS0 panic=-1 oops=panic quiet',
    ...(options.drives ?? []).flatMap((file) => ['-drive', `file=${file},format=raw,if=virtio`]),
  ];
}

/** Boot the kernel with the initramfs; resolve when QEMU exits or the timeout kills it. */
export function boot(options: BootOptions): Promise<BootResult> {
  const started = performance.now();
  const child = spawn('qemu-system-x86_64', qemuArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let pending = '';
  let bootSeconds: number | null = null;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const onData = (chunk: Buffer) => {
    const part = chunk.toString('utf8');
    text += part;
    pending += part;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (bootSeconds === null && line.includes(MARK.booted)) bootSeconds = (performance.now() - started) / 1000;
      options.onLine?.(line.replace(/\r$/, ''));
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (pending) options.onLine?.(pending);
      resolve({ console: text, timedOut, bootSeconds, totalSeconds: (performance.now() - started) / 1000, exitCode: code });
    });
  });
}
