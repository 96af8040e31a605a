// prctl(0x48530007, &word) stores 0x48530007 in word and returns 0: the new option in prctl's SYSCALL_DEFINE body,
// reached through the patched syscall wrapper. Unpatched, it fails with EINVAL.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define HS_PRCTL_PROBE 0x48530007
#define HS_MAGIC 0x48530007UL

int main(void)
{
	unsigned long word = 0;
	int rc = prctl(HS_PRCTL_PROBE, (unsigned long)&word, 0, 0, 0);
	int err = rc ? errno : 0;

	printf("prctl(probe): rc=%d (%s) word=%#lx\n", rc, strerror(err), word);
	return rc == 0 && word == HS_MAGIC ? 0 : 1;
}
