import { type ChildProcess, spawn } from 'node:child_process';

/**
 * nginx runs under this /bin/sh supervisor so that it dies with the server: the supervisor's stdin is a pipe whose
 * write end only the server holds. When the server exits, however it dies (SIGKILL included), the pipe reads EOF
 * and the watcher sends nginx SIGTERM (fast shutdown; its master stops the workers). Linux's parent-death signal is
 * not settable from Node. The first stdout line is nginx's pid (printed once the watcher runs); the supervisor exits with nginx's status.
 */
const SUPERVISOR = `
exec 3<&0 </dev/null
"$@" 3<&- &
nginx=$!
{ read -r _ <&3; kill -TERM "$nginx" 2>/dev/null; } &
watcher=$!
echo "hotsplice-nginx-pid $nginx"
exec 3<&-
wait "$nginx"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

const PID_LINE = /^hotsplice-nginx-pid (\d+)$/;

export interface Supervised {
  child: ChildProcess;
  /** nginx's own pid, once the supervisor printed it. */
  nginxPid: Promise<number>;
  /** Resolves when nginx has exited (its status, or the supervisor's signal name). */
  exited: Promise<number | string>;
  /** Closing the pipe is the stop signal, the same one the server's death gives. */
  stop(): void;
}

export function spawnSupervised(command: string, args: string[], onLine: (line: string) => void): Supervised {
  const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'hotsplice-nginx-supervisor', command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let gotPid: (pid: number) => void = () => {};
  const nginxPid = new Promise<number>((done) => (gotPid = done));
  const onData = (data: Buffer) => {
    for (const line of data.toString().split('\n').filter(Boolean)) {
      const pid = PID_LINE.exec(line);
      if (pid) gotPid(Number(pid[1]));
      else onLine(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // The server may go away while nginx shuts down: a write to the closed pipe is no error.
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | string>((done) => {
    child.on('exit', (code, signal) => done(code ?? signal ?? 'unknown'));
    child.on('error', (err) => {
      onLine(err.message);
      done('spawn failed');
    });
  });
  return { child, nginxPid, exited, stop: () => child.stdin!.end() };
}
