// SPDX-License-Identifier: GPL-2.0
/*
 * hotsplice loader: linked into every hotsplice update module together with the generated metadata
 * (hotsplice-meta.c: the klp_func / klp_object tables) and the new code of each changed kernel object.
 *
 * Loading the module enables the livepatch; livepatch then moves every task over to the new functions (per-task
 * consistency model). Userspace disables it through /sys/kernel/livepatch/<module>/enabled before rmmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/livepatch.h>
#include <linux/printk.h>
#include "hotsplice.h"

static struct klp_patch hotsplice_patch = {
	.mod = THIS_MODULE,
	.objs = hotsplice_objects,
};

/* A klp_object's name is NULL for vmlinux (include/linux/livepatch.h). */
static const char *object_name(const struct klp_object *obj)
{
	return obj->name ? obj->name : "vmlinux";
}

/*
 * Per-object callbacks (Documentation/livepatch/callbacks.rst). They run when the object is present: at enable
 * time for vmlinux and loaded modules, or when a patched module loads later. Today they only log; update-specific
 * hooks (Ksplice's ksplice_pre_apply & co.) will be called from here.
 */
int hotsplice_pre_patch(struct klp_object *obj)
{
	pr_debug("pre-patch %s\n", object_name(obj));
	return 0;
}

void hotsplice_post_patch(struct klp_object *obj)
{
	pr_debug("post-patch %s\n", object_name(obj));
}

void hotsplice_pre_unpatch(struct klp_object *obj)
{
	pr_debug("pre-unpatch %s\n", object_name(obj));
}

void hotsplice_post_unpatch(struct klp_object *obj)
{
	pr_debug("post-unpatch %s\n", object_name(obj));
}

static int __init hotsplice_init(void)
{
	/* A const in the generated file, so it cannot be a static initializer of this translation unit. */
	hotsplice_patch.replace = hotsplice_replace;
	/* The only entry into livepatch (kernel/livepatch/core.c); it registers the sysfs directory and starts
	 * the patch transition. */
	return klp_enable_patch(&hotsplice_patch);
}

/* Nothing to undo: livepatch frees the patch when it is disabled, and refuses rmmod while it is enabled. */
static void __exit hotsplice_exit(void)
{
}

module_init(hotsplice_init);
module_exit(hotsplice_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotsplice update (livepatch)");
/* Marks the module as a livepatch: kernel/module/main.c check_modinfo_livepatch() and copy_module_elf(). */
MODULE_INFO(livepatch, "Y");
