// prctl(PR_SET_MM, 0x4853, &word) stores 0x48530007 in word and returns 0; with an unmapped pointer it fails
// with EFAULT (the patched code's exception table entry at work, no oops). Unpatched, both fail with EINVAL.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#define HS_MM_PROBE 0x4853
#define HS_MAGIC 0x48530007UL

int main(void)
{
	unsigned long word = 0;
	int rc = prctl(PR_SET_MM, HS_MM_PROBE, (unsigned long)&word, 0, 0);
	int err = rc ? errno : 0;
	int bad = prctl(PR_SET_MM, HS_MM_PROBE, 16UL, 0, 0);
	int bad_err = bad ? errno : 0;

	printf("prctl(PR_SET_MM, probe): rc=%d (%s) word=%#lx; bad pointer: rc=%d (%s)\n", rc, strerror(err), word,
	       bad, strerror(bad_err));
	return rc == 0 && word == HS_MAGIC && bad == -1 && bad_err == EFAULT ? 0 : 1;
}
