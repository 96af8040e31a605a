// Names itself hs-nap-06 and sleeps 1 s with nanosleep(2): the patched do_nanosleep returns at once.
// Exit 0 iff the sleep took less than 0.5 s.
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

int main(void)
{
	struct timespec t0, t1, nap = { .tv_sec = 1, .tv_nsec = 0 };
	double elapsed;
	int rc;

	if (prctl(PR_SET_NAME, "hs-nap-06", 0, 0, 0) != 0) {
		perror("prctl(PR_SET_NAME)");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("nanosleep(1 s) as hs-nap-06: rc=%d, took %.3f s\n", rc, elapsed);
	return rc == 0 && elapsed < 0.5 ? 0 : 1;
}
