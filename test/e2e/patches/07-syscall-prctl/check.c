// prctl(0x48530007, &word) stores 0x48530007 in word and returns 0; with an unmapped pointer it fails with
// EFAULT (the patched code's exception table entry at work). Unpatched, both fail with EINVAL.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define PR_HOTSPLICE_PROBE 0x48530007

int main(void)
{
	unsigned long word = 0;
	int rc = prctl(PR_HOTSPLICE_PROBE, (unsigned long)&word, 0, 0, 0);
	int err = rc ? errno : 0;
	int bad = prctl(PR_HOTSPLICE_PROBE, 16UL, 0, 0, 0);
	int bad_err = bad ? errno : 0;

	printf("prctl probe: rc=%d (%s) word=%#lx; bad pointer: rc=%d (%s)\n", rc, strerror(err), word, bad,
	       strerror(bad_err));
	return rc == 0 && word == PR_HOTSPLICE_PROBE && bad == -1 && bad_err == EFAULT ? 0 : 1;
}
