// hs-load: the load a busy machine puts on a live update, for the guest (built static at test time).
//
//   hs-load block KIND N     N threads asleep in one syscall, each on its own object: poll, select, epoll, read
//                            (a pipe each), futex (a word each) or nanosleep. Prints "ready" once every thread is
//                            asleep in that syscall (/proc/self/task/TID/{stat,syscall}); on SIGTERM releases them
//                            (a byte into each pipe, FUTEX_WAKE, a signal for nanosleep), checks what each syscall
//                            returned and prints one "block" result line; exit 0 iff every result was right.
//   hs-load vfork S          A task in uninterruptible sleep: the parent of a vfork child that sleeps S seconds
//                            waits in kernel_clone (state D). Prints "ready" with the parent's pid.
//   hs-load tcp              A loopback TCP flood (one connection, a counter pattern) until SIGTERM; checks every
//                            byte received and prints a "tcp" result line.
//   hs-load timer FILE       A cyclictest-style probe: SCHED_FIFO 80, a 1 ms period with clock_nanosleep
//                            (TIMER_ABSTIME); on SIGTERM writes each wake-up's (due time, lateness) to FILE.
//   hs-load stats FILE A B   The lateness of the wake-ups due in [A, B] (CLOCK_MONOTONIC ns): count, p50, p99, max.
//   hs-load now              CLOCK_MONOTONIC in ns.
//   hs-load pause NS         Sleep NS ns.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Block the signals the main thread waits for, in every thread it starts (they inherit the mask). */
static sigset_t control_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		die("pthread_sigmask");
	return set;
}

static void wait_for_stop(sigset_t *set)
{
	int sig;

	sigwait(set, &sig);
}

/* ---- block ---- */

enum kind { K_POLL, K_SELECT, K_EPOLL, K_READ, K_FUTEX, K_NANOSLEEP };
static const char *const kind_names[] = { "poll", "select", "epoll", "read", "futex", "nanosleep" };
static const long kind_syscalls[] = { SYS_poll, SYS_select, SYS_epoll_wait, SYS_read, SYS_futex, SYS_nanosleep };

#define NAP_SECONDS 3600

struct sleeper {
	pthread_t thread;
	enum kind kind;
	int index;
	pid_t tid;
	int fds[2];
	int ep;
	uint32_t word;
	/* Outcome */
	int ok;
	int eintr;		/* epoll_wait / nanosleep returned EINTR (counted; the call is made again or expected) */
	char why[96];
};

static void nap_handler(int sig)
{
	(void)sig;
}

static void fail(struct sleeper *s, const char *fmt, long a, long b)
{
	snprintf(s->why, sizeof(s->why), fmt, a, b);
	s->ok = 0;
}

/* Read the one byte the main thread wrote and check it is this sleeper's. */
static void take_byte(struct sleeper *s)
{
	unsigned char byte;
	long n = syscall(SYS_read, s->fds[0], &byte, 1);

	if (n != 1 || byte != (unsigned char)s->index)
		fail(s, "read after wake-up: %ld, byte %ld", n, n == 1 ? byte : -1);
}

static void *sleep_in_syscall(void *arg)
{
	struct sleeper *s = arg;
	long rc;

	s->tid = (pid_t)syscall(SYS_gettid);
	s->ok = 1;
	switch (s->kind) {
	case K_POLL: {
		struct pollfd p = { .fd = s->fds[0], .events = POLLIN };

		rc = syscall(SYS_poll, &p, 1, -1);
		if (rc != 1 || !(p.revents & POLLIN))
			fail(s, "poll: %ld, revents %#lx", rc < 0 ? -errno : rc, p.revents);
		else
			take_byte(s);
		break;
	}
	case K_SELECT: {
		fd_set r;

		FD_ZERO(&r);
		FD_SET(s->fds[0], &r);
		rc = syscall(SYS_select, s->fds[0] + 1, &r, NULL, NULL, NULL);
		if (rc != 1 || !FD_ISSET(s->fds[0], &r))
			fail(s, "select: %ld, set %ld", rc < 0 ? -errno : rc, FD_ISSET(s->fds[0], &r));
		else
			take_byte(s);
		break;
	}
	case K_EPOLL: {
		struct epoll_event e;

		/* epoll_wait is never restarted: a signal, livepatch's fake one too, ends it with EINTR (fs/eventpoll.c ep_poll). */
		while ((rc = syscall(SYS_epoll_wait, s->ep, &e, 1, -1)) < 0 && errno == EINTR)
			s->eintr++;
		if (rc != 1 || e.data.u32 != (uint32_t)s->index || !(e.events & EPOLLIN))
			fail(s, "epoll_wait: %ld, data %ld", rc < 0 ? -errno : rc, rc == 1 ? (long)e.data.u32 : -1);
		else
			take_byte(s);
		break;
	}
	case K_READ:
		take_byte(s);
		break;
	case K_FUTEX:
		/* FUTEX_WAIT may return 0 before the word changed (futex(2)): wait again, as every user does. */
		while (__atomic_load_n(&s->word, __ATOMIC_ACQUIRE) == 0) {
			rc = syscall(SYS_futex, &s->word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
			if (rc != 0 && errno != EAGAIN) {
				fail(s, "futex: %ld, word %ld", -errno, s->word);
				break;
			}
		}
		break;
	case K_NANOSLEEP: {
		struct timespec nap = { .tv_sec = NAP_SECONDS }, rem = { 0, 0 };
		int64_t start = now_ns(), slept;

		/* Released by a real signal (a handler, so no restart): EINTR, and the time left must be the time not slept. */
		rc = syscall(SYS_nanosleep, &nap, &rem);
		slept = now_ns() - start;
		if (rc != -1 || errno != EINTR) {
			fail(s, "nanosleep: %ld, errno %ld", rc, errno);
			break;
		}
		s->eintr++;
		if (llabs((int64_t)NAP_SECONDS * 1000000000 - slept - ((int64_t)rem.tv_sec * 1000000000 + rem.tv_nsec)) > 500000000)
			fail(s, "nanosleep: slept %ld ms, %ld ms left", (long)(slept / 1000000), (long)rem.tv_sec * 1000 + rem.tv_nsec / 1000000);
		break;
	}
	}
	return NULL;
}

/* Whether the thread sleeps (S) inside `nr` (/proc/PID/syscall: the syscall a blocked task is in). */
static int asleep_in(pid_t tid, long nr)
{
	char path[64], buf[512];
	long got = -1;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (!(f = fopen(path, "r")))
		return 0;
	buf[0] = 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'S')
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%ld", &got) != 1)
		got = -1;
	fclose(f);
	return got == nr;
}

static int block(const char *kind_name, int n)
{
	sigset_t stop = control_signals();
	struct sigaction nap = { .sa_handler = nap_handler };	/* no SA_RESTART */
	pthread_attr_t attr;
	struct sleeper *s;
	enum kind kind;
	int i, asleep, ok = 0, eintr = 0, bad = 0;
	int64_t t0;

	for (kind = 0; kind < sizeof(kind_names) / sizeof(kind_names[0]); kind++)
		if (!strcmp(kind_names[kind], kind_name))
			break;
	if (kind == sizeof(kind_names) / sizeof(kind_names[0]) || n <= 0) {
		fprintf(stderr, "hs-load block: unknown kind %s or count %d\n", kind_name, n);
		return 2;
	}
	sigaction(SIGUSR2, &nap, NULL);
	s = calloc(n, sizeof(*s));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 0; i < n; i++) {
		s[i].kind = kind;
		s[i].index = i;
		if (kind != K_FUTEX && kind != K_NANOSLEEP && pipe2(s[i].fds, O_CLOEXEC))
			die("pipe2");
		if (kind == K_EPOLL) {
			struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

			s[i].ep = epoll_create1(EPOLL_CLOEXEC);
			if (s[i].ep < 0 || epoll_ctl(s[i].ep, EPOLL_CTL_ADD, s[i].fds[0], &e))
				die("epoll");
		}
		if (pthread_create(&s[i].thread, &attr, sleep_in_syscall, &s[i]))
			die("pthread_create");
	}
	t0 = now_ns();
	do {
		usleep(20000);
		for (asleep = 0, i = 0; i < n; i++)
			asleep += __atomic_load_n(&s[i].tid, __ATOMIC_ACQUIRE) && asleep_in(s[i].tid, kind_syscalls[kind]);
	} while (asleep < n && now_ns() - t0 < 60LL * 1000000000);
	printf("ready %d %s sleepers (%d asleep in syscall %ld)\n", n, kind_name, asleep, kind_syscalls[kind]);
	fflush(stdout);
	if (asleep < n)
		return 1;

	wait_for_stop(&stop);
	for (i = 0; i < n; i++) {
		unsigned char byte = (unsigned char)i;

		switch (kind) {
		case K_FUTEX:
			__atomic_store_n(&s[i].word, 1, __ATOMIC_RELEASE);
			syscall(SYS_futex, &s[i].word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
			break;
		case K_NANOSLEEP:
			syscall(SYS_tgkill, getpid(), s[i].tid, SIGUSR2);
			break;
		default:
			if (write(s[i].fds[1], &byte, 1) != 1)
				die("write");
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(s[i].thread, NULL);
		ok += s[i].ok;
		eintr += s[i].eintr;
		if (!s[i].ok && bad++ < 3)
			fprintf(stderr, "hs-load: %s sleeper %d (tid %d): %s\n", kind_name, i, s[i].tid, s[i].why);
	}
	printf("block %s: %d sleepers, %d returned right, %d wrong, %d EINTR\n", kind_name, n, ok, n - ok, eintr);
	return ok == n ? 0 : 1;
}

/* ---- vfork: a task in uninterruptible sleep ---- */

static int vfork_holder(int seconds)
{
	struct timespec nap = { .tv_sec = seconds };
	int64_t t0 = now_ns();
	pid_t child;
	int status;

	printf("ready vfork parent %d\n", getpid());
	fflush(stdout);
	child = vfork();
	if (child == 0) {
		/* Only syscalls between vfork and _exit: the parent waits in kernel_clone (wait_for_vfork_done). */
		syscall(SYS_nanosleep, &nap, NULL);
		_exit(0);
	}
	if (child < 0)
		die("vfork");
	waitpid(child, &status, 0);
	printf("vfork: parent waited %.1f s, child status %d\n", (now_ns() - t0) / 1e9, status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* ---- tcp flood ---- */

#define CHUNK (64 << 10)

static volatile int flood_stop;
static int flood_listener;
static unsigned long long flood_sent, flood_received;
static char flood_error[128];

static void *flood_sender(void *arg)
{
	struct sockaddr_in *to = arg;
	uint32_t buf[CHUNK / 4], next = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t i;

	if (fd < 0 || connect(fd, (struct sockaddr *)to, sizeof(*to)))
		die("connect");
	while (!flood_stop) {
		ssize_t n;

		for (i = 0; i < CHUNK / 4; i++)
			buf[i] = next++;
		for (size_t off = 0; off < CHUNK && !flood_stop; off += n) {
			n = send(fd, (char *)buf + off, CHUNK - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				snprintf(flood_error, sizeof(flood_error), "send: %s", strerror(errno));
				flood_stop = 1;
				break;
			}
			flood_sent += n;
		}
	}
	shutdown(fd, SHUT_WR);
	close(fd);
	return NULL;
}

static void *flood_receiver(void *arg)
{
	static uint32_t buf[CHUNK / 4 + 1];
	uint32_t expect = 0;
	size_t have = 0;
	int fd = accept(flood_listener, NULL, NULL);

	(void)arg;
	if (fd < 0)
		die("accept");
	for (;;) {
		ssize_t n = recv(fd, (char *)buf + have, CHUNK - have, 0);
		size_t words, i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		flood_received += n;
		have += n;
		words = have / 4;
		for (i = 0; i < words; i++) {
			if (buf[i] != expect++) {
				snprintf(flood_error, sizeof(flood_error), "byte %llu: %u, expected %u", flood_received, buf[i], expect - 1);
				flood_stop = 1;
				close(fd);
				return NULL;
			}
		}
		memmove(buf, (char *)buf + words * 4, have - words * 4);
		have -= words * 4;
	}
	close(fd);
	return NULL;
}

static int tcp_flood(void)
{
	sigset_t stop = control_signals();
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(at);
	pthread_t tx, rx;
	int64_t t0;
	double s;

	flood_listener = socket(AF_INET, SOCK_STREAM, 0);
	if (flood_listener < 0 || bind(flood_listener, (struct sockaddr *)&at, sizeof(at)) || listen(flood_listener, 1) ||
	    getsockname(flood_listener, (struct sockaddr *)&at, &len))
		die("listen");
	pthread_create(&rx, NULL, flood_receiver, NULL);
	pthread_create(&tx, NULL, flood_sender, &at);
	t0 = now_ns();
	printf("ready tcp flood on port %d\n", ntohs(at.sin_port));
	fflush(stdout);
	wait_for_stop(&stop);
	flood_stop = 1;
	pthread_join(tx, NULL);
	pthread_join(rx, NULL);
	s = (now_ns() - t0) / 1e9;
	printf("tcp: %llu bytes sent, %llu received and checked in %.1f s (%.1f MB/s)%s%s\n", flood_sent, flood_received, s,
	       flood_received / s / 1e6, flood_error[0] ? ", error: " : "", flood_error);
	return !flood_error[0] && flood_received == flood_sent && flood_received > 0 ? 0 : 1;
}

/* ---- timer probe ---- */

#define PERIOD_NS 1000000
#define MAX_SAMPLES (10 * 60 * 1000)

struct sample {
	int64_t due;
	int64_t late;
};

static volatile sig_atomic_t probe_stop;

static void probe_handler(int sig)
{
	(void)sig;
	probe_stop = 1;
}

static int timer_probe(const char *file)
{
	struct sched_param prio = { .sched_priority = 80 };
	struct sigaction stop = { .sa_handler = probe_handler };
	struct sample *samples = calloc(MAX_SAMPLES, sizeof(*samples));
	struct timespec next;
	size_t n = 0;
	int64_t due;
	FILE *out;

	if (!samples)
		die("calloc");
	sigaction(SIGTERM, &stop, NULL);
	if (sched_setscheduler(0, SCHED_FIFO, &prio))
		die("sched_setscheduler");
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		die("mlockall");
	due = now_ns() + PERIOD_NS;
	printf("ready timer probe, period %d us\n", PERIOD_NS / 1000);
	fflush(stdout);
	while (!probe_stop && n < MAX_SAMPLES) {
		next.tv_sec = due / 1000000000;
		next.tv_nsec = due % 1000000000;
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
			continue; /* EINTR: probe_stop is set */
		samples[n].due = due;
		samples[n].late = now_ns() - due;
		n++;
		due += PERIOD_NS;
		/* Missed periods are not made up (cyclictest's default): the next one is due after now. */
		while (due < now_ns())
			due += PERIOD_NS;
	}
	if (!(out = fopen(file, "wb")) || fwrite(samples, sizeof(*samples), n, out) != n || fclose(out))
		die(file);
	printf("timer probe: %zu wake-ups written to %s\n", n, file);
	return 0;
}

static int cmp_late(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int stats(const char *file, int64_t from, int64_t to)
{
	FILE *in = fopen(file, "rb");
	struct sample s;
	int64_t *late = NULL;
	size_t n = 0, cap = 0;

	if (!in)
		die(file);
	while (fread(&s, sizeof(s), 1, in) == 1) {
		if (s.due < from || s.due > to)
			continue;
		if (n == cap && !(late = realloc(late, (cap = cap ? 2 * cap : 4096) * sizeof(*late))))
			die("realloc");
		late[n++] = s.late;
	}
	fclose(in);
	if (!n) {
		printf("stats count=0\n");
		return 1;
	}
	qsort(late, n, sizeof(*late), cmp_late);
	printf("stats count=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f\n", n, late[n / 2] / 1e3, late[(n * 99) / 100] / 1e3, late[n - 1] / 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "block"))
		return block(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "vfork"))
		return vfork_holder(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "tcp"))
		return tcp_flood();
	if (argc == 3 && !strcmp(argv[1], "timer"))
		return timer_probe(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "stats"))
		return stats(argv[2], atoll(argv[3]), atoll(argv[4]));
	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%lld\n", (long long)now_ns());
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "pause")) {
		int64_t ns = atoll(argv[2]);
		struct timespec t = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

		while (nanosleep(&t, &t) && errno == EINTR)
			;
		return 0;
	}
	fprintf(stderr, "usage: hs-load block KIND N | vfork S | tcp | timer FILE | stats FILE FROM TO | now | pause NS\n");
	return 2;
}
