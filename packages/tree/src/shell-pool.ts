import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStale, toolchainCommand } from '@hotsplice/kernel';

/**
 * Long-lived /bin/sh workers that run commands for this process, each writing its output to a file in memory
 * (/dev/shm). Thousands of short gcc runs cost far more through Node's own spawn (measured: ~40 ms per spawn from
 * a Node process holding a few hundred MB, and ~0.2 s per 5 MB output through execa's growing buffers) than a
 * fork of a small shell and one read of a tmpfs file. With a build root, the shells run inside it (bubblewrap binds
 * /dev, /dev/shm with it, and every other directory of the machine at its own path).
 */
export class ShellPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(worker: Worker) => void> = [];
  private counter = 0;

  private constructor(
    private readonly dir: string,
    workers: Worker[],
  ) {
    this.idle.push(...workers);
  }

  static async start(size: number, toolchain: { buildRoot?: string } = {}): Promise<ShellPool> {
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    // A killed run leaves its folder (units of a few MB in memory): the next one removes it.
    await removeStale(base, 'hotsplice-shell-');
    const dir = await mkdtemp(join(base, `hotsplice-shell-${process.pid}-`));
    const [file, args] = await toolchainCommand(toolchain, '/bin/sh', []);
    return new ShellPool(dir, Array.from({ length: size }, () => new Worker(file, args)));
  }

  /** Run `file args…` in `cwd`: exit code, standard output and standard error. */
  async run(cwd: string, file: string, args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
    const worker = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const out = join(this.dir, `${++this.counter}.out`);
    const err = join(this.dir, `${this.counter}.err`);
    try {
      const code = await worker.run(`cd ${quote(cwd)} && ${[file, ...args].map(quote).join(' ')} >${quote(out)} 2>${quote(err)}`);
      const [stdout, stderr] = await Promise.all([readFile(out), readFile(err, 'utf8').catch(() => '')]);
      return { code, stdout, stderr };
    } finally {
      await Promise.all([rm(out, { force: true }), rm(err, { force: true })]);
      const next = this.waiting.shift();
      if (next) next(worker);
      else this.idle.push(worker);
    }
  }

  async stop(): Promise<void> {
    for (const worker of this.idle) worker.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

class Worker {
  private readonly shell: ChildProcessWithoutNullStreams;
  private pending?: (code: number) => void;
  private buffered = '';

  constructor(file: string, args: string[]) {
    this.shell = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.shell.stdout.setEncoding('utf8');
    this.shell.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      const m = /hotsplice-done (\d+)\n/.exec(this.buffered);
      if (m) {
        this.buffered = this.buffered.slice(m.index + m[0].length);
        const done = this.pending;
        this.pending = undefined;
        done?.(Number(m[1]));
      }
    });
    this.shell.on('exit', () => this.pending?.(127));
  }

  run(command: string): Promise<number> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.shell.stdin.write(`(${command}); echo "hotsplice-done $?"\n`);
    });
  }

  stop(): void {
    this.shell.stdin.end();
  }
}
