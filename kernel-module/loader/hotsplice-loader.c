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
 * The patch's hooks for a klp object. Livepatch passes back the very entries of hotsplice_objects (static objects,
 * kernel/livepatch/core.c klp_init_patch), so the index into that table finds the parallel hooks entry.
 */
static const struct hotsplice_hooks *hooks_of(const struct klp_object *obj)
{
	return &hotsplice_hooks[obj - hotsplice_objects];
}

/*
 * Per-object callbacks (Documentation/livepatch/callbacks.rst). They run when the object is present: at enable
 * time for vmlinux and loaded modules, or when a patched module loads later.
 */
int hotsplice_pre_patch(struct klp_object *obj)
{
	const struct hotsplice_hooks *hooks = hooks_of(obj);

	pr_debug("pre-patch %s\n", object_name(obj));
	return hooks->pre_patch ? hooks->pre_patch(obj) : 0;
}

void hotsplice_post_patch(struct klp_object *obj)
{
	const struct hotsplice_hooks *hooks = hooks_of(obj);

	pr_debug("post-patch %s\n", object_name(obj));
	if (hooks->post_patch)
		hooks->post_patch(obj);
}

void hotsplice_pre_unpatch(struct klp_object *obj)
{
	const struct hotsplice_hooks *hooks = hooks_of(obj);

	pr_debug("pre-unpatch %s\n", object_name(obj));
	/* The unpatch transition is set up (klp_init_transition) and starts right after these callbacks. */
	hotsplice_control_arm(&hotsplice_patch);
	if (hooks->pre_unpatch)
		hooks->pre_unpatch(obj);
}

void hotsplice_post_unpatch(struct klp_object *obj)
{
	const struct hotsplice_hooks *hooks = hooks_of(obj);

	pr_debug("post-unpatch %s\n", object_name(obj));
	if (hooks->post_unpatch)
		hooks->post_unpatch(obj);
}

static int __init hotsplice_init(void)
{
	int ret;

	/* A const in the generated file, so it cannot be a static initializer of this translation unit. */
	hotsplice_patch.replace = hotsplice_replace;
	hotsplice_control_init();
	/* The only entry into livepatch (kernel/livepatch/core.c); it registers the sysfs directory and starts
	 * the patch transition. */
	ret = klp_enable_patch(&hotsplice_patch);
	if (!ret)
		hotsplice_control_arm(&hotsplice_patch);
	return ret;
}

/* livepatch frees the patch when it is disabled, and refuses rmmod while it is enabled; only the control's work may be left. */
static void __exit hotsplice_exit(void)
{
	hotsplice_control_stop();
}

module_init(hotsplice_init);
module_exit(hotsplice_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotsplice update (livepatch)");
/* Marks the module as a livepatch: kernel/module/main.c check_modinfo_livepatch() and copy_module_elf(). */
MODULE_INFO(livepatch, "Y");
