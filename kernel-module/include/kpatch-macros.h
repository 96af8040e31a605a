/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-macros.h for hotsplice: patches written for kpatch-build build unchanged. Each macro keeps the meaning
 * kpatch documents (doc/patch-author-guide.md) and maps onto <linux/hotsplice.h>:
 *
 *	KPATCH_PRE_PATCH_CALLBACK(fn)	int fn(patch_object *obj), before the object is patched; non-zero refuses
 *	KPATCH_POST_PATCH_CALLBACK(fn)	void fn(patch_object *obj), after the transition
 *	KPATCH_PRE_UNPATCH_CALLBACK(fn)	void fn(patch_object *obj), before undo starts
 *	KPATCH_POST_UNPATCH_CALLBACK(fn)	void fn(patch_object *obj), after undo finished
 *	KPATCH_IGNORE_FUNCTION(fn)	a change to fn is a side effect: fn is not replaced
 *	KPATCH_IGNORE_SECTION(name)	the same for every symbol of that section
 *	KPATCH_FORCE_UNSAFE(fn)		fn's old and new copies may run side by side (see hotsplice_force_unsafe)
 *	KPATCH_PRINTK(fmt, ...)		printk on a code path of its own, so it does not make the caller's path cold
 *
 * patch_object is livepatch's struct klp_object (include/linux/livepatch.h): obj->name is NULL for vmlinux, obj->mod
 * the patched module.
 */
#ifndef __KPATCH_MACROS_H_
#define __KPATCH_MACROS_H_

#include <linux/compiler.h>
#include <linux/jiffies.h>
#include <linux/printk.h>
#include <linux/hotsplice.h>

typedef struct klp_object patch_object;

#define KPATCH_PRE_PATCH_CALLBACK(fn) hotsplice_pre_patch(fn)
#define KPATCH_POST_PATCH_CALLBACK(fn) hotsplice_post_patch(fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(fn) hotsplice_pre_unpatch(fn)
#define KPATCH_POST_UNPATCH_CALLBACK(fn) hotsplice_post_unpatch(fn)

#define KPATCH_IGNORE_FUNCTION(fn) hotsplice_ignore_function(fn)
#define KPATCH_IGNORE_SECTION(name) hotsplice_ignore_section(name)
#define KPATCH_FORCE_UNSAFE(fn) hotsplice_force_unsafe(fn)

/* jiffies is never 0 to the compiler, so the branch stays and printk's __cold does not spread to the caller. */
#define KPATCH_PRINTK(fmt, ...)                                                                \
	({                                                                                     \
		if (jiffies)                                                                   \
			printk(fmt, ##__VA_ARGS__);                                            \
	})

#endif /* __KPATCH_MACROS_H_ */
