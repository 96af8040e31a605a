// SPDX-License-Identifier: GPL-2.0
/*
 * hotsplice smoke test: the smallest useful livepatch. It redirects fs/proc/cmdline.c's
 * cmdline_proc_show() to a replacement that prints a fixed marker, proving that a module built by
 * kbuild against Debian's unpacked headers tree loads, patches, and comes back out cleanly.
 */
#include <linux/module.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

#define HOTSPLICE_SMOKE_MARKER "hotsplice-smoke: /proc/cmdline is livepatched"

/* Same signature as the original (a seq_file show callback); only the body differs. */
static int smoke_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, HOTSPLICE_SMOKE_MARKER "\n");
	return 0;
}

static struct klp_func smoke_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = smoke_cmdline_show },
	{}
};

/* .name == NULL: the functions live in vmlinux, not in a module. */
static struct klp_object smoke_objs[] = {
	{ .name = NULL, .funcs = smoke_funcs },
	{}
};

static struct klp_patch smoke_patch = {
	.mod = THIS_MODULE,
	.objs = smoke_objs,
};

static int __init smoke_init(void)
{
	return klp_enable_patch(&smoke_patch);
}

/* Nothing to undo here: userspace disables the patch through sysfs before rmmod. */
static void __exit smoke_exit(void)
{
}

module_init(smoke_init);
module_exit(smoke_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotsplice smoke livepatch: marker in /proc/cmdline");
MODULE_INFO(livepatch, "Y");
