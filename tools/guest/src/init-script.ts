/**
 * Console markers between the guest's /init and the host. They are printed on lines of their own and are
 * unlikely in any real output.
 */
export const MARK = {
  booted: '@@HOTSPLICE:BOOTED',
  begin: '@@HOTSPLICE:BEGIN',
  end: '@@HOTSPLICE:END',
  dmesg: '@@HOTSPLICE:DMESG@@',
  dmesgEnd: '@@HOTSPLICE:DMESG-END@@',
  done: '@@HOTSPLICE:DONE@@',
} as const;

export const GUEST_DIR = 'hotsplice';

/**
 * The guest's /init (busybox sh, PID 1): mount the pseudo file systems, run each script in order with its output
 * framed by markers, dump the whole kernel log (WARNINGs are not on a `quiet` console), power off.
 */
export function initScript(scriptNames: string[]): string {
  const runs = scriptNames.map((name) => `run_one ${name}`);
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mkdir -p /proc /sys /dev /tmp /root /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo "${MARK.booted} $(cut -d' ' -f1 /proc/uptime)@@"
run_one() {
  echo "${MARK.begin}:$1@@"
  (cd /${GUEST_DIR}/files && sh /${GUEST_DIR}/scripts/$1 </dev/null 2>&1)
  rc=$?
  echo "${MARK.end}:$1:$rc@@"
}
${runs.join('\n')}
echo "${MARK.dmesg}"
dmesg
echo "${MARK.dmesgEnd}"
echo "${MARK.done}"
poweroff -f
`;
}
