// The kernel's log records since a point, read from /dev/kmsg (Documentation/ABI/testing/dev-kmsg): each read()
// returns one record "<prio>,<seq>,<usec>,<flags>;<text>\n". Used to show the kernel's own lines for a failure.
import { closeSync, constants, openSync, readSync } from 'node:fs';

export interface KernelLine {
  seq: number;
  /** The record's time stamp (µs since boot, the kernel's local clock). */
  usec: number;
  text: string;
}

/** All records still in the ring buffer; empty when /dev/kmsg cannot be read (not root, no devtmpfs). */
export function readKernelLog(): KernelLine[] {
  const fd = openKmsg();
  if (fd === undefined) return [];
  try {
    return readRecords(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * /dev/kmsg held open: the records logged since the last read, without reading the ring again. A full ring (a
 * transition of 1,200 sleepers logs a line each) took 0.7-2.5 s to read under TCG, and a wait read it at every look.
 */
export class KernelLogTail {
  private constructor(
    private readonly fd: number | undefined,
    /** The newest record when it was opened (kernelLogMark's number). */
    readonly mark: number,
  ) {}

  /** Reads the ring once, to its end. */
  static open(): KernelLogTail {
    const fd = openKmsg();
    const lines = fd === undefined ? [] : readRecords(fd);
    return new KernelLogTail(fd, lines.length ? lines[lines.length - 1].seq : -1);
  }

  /** The records logged since the last call (or since it was opened). */
  next(): KernelLine[] {
    return this.fd === undefined ? [] : readRecords(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

function openKmsg(): number | undefined {
  try {
    return openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/** Every record from the fd's position on: each read() returns one. */
function readRecords(fd: number): KernelLine[] {
  const lines: KernelLine[] = [];
  const buffer = Buffer.alloc(8192);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (err) {
      // EPIPE: the record we were at was overwritten; the next read continues with the oldest one left.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') continue;
      break; // EAGAIN: nothing more
    }
    if (n <= 0) break;
    const record = buffer.toString('utf8', 0, n);
    const semicolon = record.indexOf(';');
    const [, seq, usec] = record.slice(0, semicolon).split(',');
    lines.push({ seq: Number(seq), usec: Number(usec), text: record.slice(semicolon + 1).split('\n')[0] });
  }
  return lines;
}

/** The sequence number of the newest record (-1 when unreadable): remember it before acting. */
export function kernelLogMark(): number {
  const lines = readKernelLog();
  return lines.length ? lines[lines.length - 1].seq : -1;
}

/** Records after `mark`, as text lines. */
export function kernelLogSince(mark: number): string[] {
  return readKernelLog()
    .filter((l) => l.seq > mark)
    .map((l) => l.text);
}
