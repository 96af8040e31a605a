// sysinfo(2) from a task named hs-sysinfo-17 reports 0x4853 processes: the change in sysinfo's SYSCALL_DEFINE body,
// reached through the patched syscall wrapper. Unpatched, it reports the real count.
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>

int main(void)
{
	struct sysinfo info;

	prctl(PR_SET_NAME, "hs-sysinfo-17", 0, 0, 0);
	if (sysinfo(&info))
		return 2;
	printf("sysinfo: procs=%#x\n", info.procs);
	return info.procs == 0x4853 ? 0 : 1;
}
