// SPDX-License-Identifier: GPL-2.0
/*
 * hotsplice transition control: the update itself ends the wait for tasks that sleep inside the functions it
 * replaces, instead of leaving them to livepatch's own fake signal, which comes only every 15 retries (15 s,
 * SIGNALS_TIMEOUT in kernel/livepatch/transition.c).
 *
 * A livepatch transition switches a sleeping task only when no patched function is on its stack; a task asleep in
 * one (a `sleep` in do_nanosleep, 200 threads in poll) holds the transition open until it wakes. After a grace
 * period (signal_grace_ms) this does what klp_send_signals() does for every task still marked TIF_PATCH_PENDING:
 * a user task gets TIF_NOTIFY_SIGNAL and a wake-up (set_notify_signal(), include/linux/sched/signal.h): its sleep
 * ends, the syscall is restarted on the way out (no real signal is pending) and the task switches itself in
 * exit_to_user_mode. A kernel thread is woken. Rounds repeat with backoff (grace, 2x, 4x, ... at most
 * CONTROL_MAX_INTERVAL_MS) until the transition ends or signal_timeout_ms passes.
 *
 * A signal moves only the tasks that can return to user space; kernel threads, and tasks the wake-up did not reach
 * (asleep outside the patch, uninterruptibly), are switched only by livepatch's retry (klp_try_complete_transition,
 * once a second, rounded to a whole second). So once every signalled task has gone its way (none is still woken
 * and on its way out with TIF_NOTIFY_SIGNAL set), the retry is run at once, not at its next round. (With 1,200
 * sleepers under TCG every task had switched 40-70 ms after the first round; an undo's transition then stays open
 * while livepatch completes it, 1.3-1.7 s for six functions, and a round in that time finds nothing to signal.)
 * A task in uninterruptible sleep cannot be woken this way: it keeps the transition open, as it always did.
 *
 * wake_up_state(), klp_transition_patch and klp_transition_work are not exported; they are bound through the
 * module's own klp relocations (HOTSPLICE_VMLINUX_SYMBOL, hotsplice.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/limits.h>
#include <linux/livepatch.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>
#include "hotsplice.h"

extern int hs_wake_up_state(struct task_struct *p, unsigned int state) HOTSPLICE_VMLINUX_SYMBOL(wake_up_state);
/* The patch livepatch is moving tasks to or from (kernel/livepatch/transition.c); NULL between transitions. */
extern struct klp_patch *hs_klp_transition_patch HOTSPLICE_VMLINUX_SYMBOL(klp_transition_patch);
/* livepatch's retry: klp_try_complete_transition() under klp_mutex, rescheduled each second while tasks remain. */
extern struct delayed_work hs_klp_transition_work HOTSPLICE_VMLINUX_SYMBOL(klp_transition_work);

static unsigned int signal_grace_ms = 1000;
module_param(signal_grace_ms, uint, 0644);
MODULE_PARM_DESC(signal_grace_ms, "ms a transition may take before the tasks holding it are signalled (0: never)");

static unsigned int signal_timeout_ms = 60000;
module_param(signal_timeout_ms, uint, 0644);
MODULE_PARM_DESC(signal_timeout_ms, "ms after which signalling stops (0: never)");

static unsigned int signal_rounds;
module_param(signal_rounds, uint, 0444);
MODULE_PARM_DESC(signal_rounds, "rounds of signals sent during the last transition");

static unsigned int signalled_tasks;
module_param(signalled_tasks, uint, 0444);
MODULE_PARM_DESC(signalled_tasks, "signals (user tasks) and wake-ups (kernel threads) sent during the last transition");

#define CONTROL_MAX_INTERVAL_MS 8000
/* After a round, how soon to look whether the signalled tasks have switched (doubling up to CONTROL_LOOK_MS). */
#define CONTROL_SETTLE_MS 4
/* At most this long between looks: 1,200 signalled tasks under TCG take ~0.5 s to go their way. */
#define CONTROL_LOOK_MS 64

struct pending {
	unsigned int tasks;	/* not yet switched (the caller itself not counted) */
	unsigned int kthreads;	/* of which kernel threads: only livepatch's retry switches them */
	unsigned int moving;	/* user tasks woken by a signal and not yet back in user space, where they switch */
};

static struct {
	struct delayed_work work;
	struct klp_patch *patch;
	bool fresh;		/* armed, no round yet */
	bool enabled;		/* the patch's enabled state the rounds are for: it flips when the transition reverses */
	unsigned long started;	/* jiffies: the grace began */
	unsigned long next_round;
	unsigned int interval_ms;
	unsigned int settle_ms;
	bool signalled;		/* a round signalled tasks in this direction */
	unsigned int tried_at;	/* tasks pending when livepatch's retry was last run early; UINT_MAX: not since the round */
} control;

/* set_notify_signal() (include/linux/sched/signal.h), with wake_up_state() through the klp relocation. */
static void notify_signal(struct task_struct *task)
{
	if (!test_and_set_tsk_thread_flag(task, TIF_NOTIFY_SIGNAL) && !hs_wake_up_state(task, TASK_INTERRUPTIBLE))
		kick_process(task);
}

/* The tasks not yet switched; with `send`, klp_send_signals() for them. */
static struct pending visit_pending(bool send)
{
	struct task_struct *g, *task;
	struct pending pending = { 0 };
	bool kthread;

	/* tasklist_lock is not exported; the task list may be walked under RCU (include/linux/sched/signal.h). */
	rcu_read_lock();
	for_each_process_thread(g, task) {
		if (task == current || !klp_patch_pending(task))
			continue;
		kthread = task->flags & PF_KTHREAD;
		pending.tasks++;
		pending.kthreads += kthread;
		/*
		 * Signalled and not in a sleep the wake-up cannot end (uninterruptible, stopped, traced): woken, or
		 * about to be (try_to_wake_up may leave it TASK_WAKING a while). TIF_NOTIFY_SIGNAL is cleared on the
		 * way out (kernel/signal.c get_signal), after the switch (kernel/entry/common.c
		 * exit_to_user_mode_loop calls klp_update_patch_state first).
		 */
		if (!kthread && test_tsk_thread_flag(task, TIF_NOTIFY_SIGNAL) &&
		    !(READ_ONCE(task->__state) & (TASK_UNINTERRUPTIBLE | __TASK_STOPPED | __TASK_TRACED)))
			pending.moving++;
		if (!send)
			continue;
		if (kthread)
			hs_wake_up_state(task, TASK_INTERRUPTIBLE);
		else
			notify_signal(task);
	}
	rcu_read_unlock();
	return pending;
}

static void control_round(struct work_struct *work)
{
	struct klp_patch *patch = control.patch;
	unsigned long now = jiffies;
	bool enabled = READ_ONCE(patch->enabled);
	struct pending pending;
	long left;

	/* Finished, or reversed and finished; never act on another patch's transition. */
	if (READ_ONCE(hs_klp_transition_patch) != patch)
		return;
	if (control.fresh || enabled != control.enabled) {
		/* A new transition (armed a grace ago), or this one reversed: the reversal gets its own grace. */
		control.next_round = control.fresh ? now : now + msecs_to_jiffies(signal_grace_ms);
		if (!control.fresh)
			control.started = now;
		control.enabled = enabled;
		control.interval_ms = signal_grace_ms;
		control.settle_ms = CONTROL_SETTLE_MS;
		control.fresh = false;
		control.signalled = false;
		control.tried_at = UINT_MAX;
	}
	if (!signal_grace_ms || (signal_timeout_ms && time_after(now, control.started + msecs_to_jiffies(signal_timeout_ms))))
		return; /* switched off, or given up: livepatch's own signals go on */

	if (time_after_eq(now, control.next_round)) {
		pending = visit_pending(true);
		/* Nothing left to signal: every task has switched, and livepatch is completing the transition
		 * (an unpatch unregisters its ftrace handlers there, with an RCU-tasks grace period each). */
		signal_rounds += !!pending.tasks;
		signalled_tasks += pending.tasks;
		pr_debug("signalled %u task(s) holding the %s transition (%u kernel threads)\n", pending.tasks,
			 enabled ? "patch" : "unpatch", pending.kthreads);
		control.next_round = now + msecs_to_jiffies(control.interval_ms);
		control.interval_ms = min(control.interval_ms * 2, CONTROL_MAX_INTERVAL_MS);
		control.settle_ms = CONTROL_SETTLE_MS;
		control.signalled |= pending.tasks > 0;
		control.tried_at = UINT_MAX;
	} else {
		pending = visit_pending(false);
		/*
		 * Let livepatch try now, not at its next round, when that can end or advance the transition: every
		 * task has switched, or the signalled tasks have gone their way and fewer tasks are pending than at
		 * the last early try (the rest, kernel threads and tasks asleep outside the patch, only a try switches).
		 */
		if (pending.tasks < control.tried_at && (!pending.tasks || (control.signalled && !pending.moving))) {
			pr_debug("retrying the %s transition now: %u task(s) pending (%u kernel threads)\n",
				 enabled ? "patch" : "unpatch", pending.tasks, pending.kthreads);
			mod_delayed_work(system_wq, &hs_klp_transition_work, 0);
			control.tried_at = pending.tasks;
		}
	}
	left = (long)(control.next_round - now);
	queue_delayed_work(system_wq, &control.work, clamp_t(long, msecs_to_jiffies(control.settle_ms), 1, max(left, 1L)));
	control.settle_ms = min(control.settle_ms * 2, CONTROL_LOOK_MS);
}

/* A transition of `patch` has started (enable) or is about to (pre-unpatch): take charge after the grace. */
void hotsplice_control_arm(struct klp_patch *patch)
{
	if (!signal_grace_ms || READ_ONCE(hs_klp_transition_patch) != patch)
		return;
	/* A round of the previous transition may still be queued or running; it must not see half this state. */
	cancel_delayed_work_sync(&control.work);
	control.patch = patch;
	control.fresh = true;
	control.started = jiffies;
	signal_rounds = 0;
	signalled_tasks = 0;
	queue_delayed_work(system_wq, &control.work, msecs_to_jiffies(signal_grace_ms));
}

void hotsplice_control_init(void)
{
	INIT_DELAYED_WORK(&control.work, control_round);
}

void hotsplice_control_stop(void)
{
	cancel_delayed_work_sync(&control.work);
}
