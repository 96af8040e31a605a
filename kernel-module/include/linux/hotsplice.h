/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/hotsplice.h> - what a hotsplice patch may use beyond ordinary kernel code. The diff step installs this
 * file into the kernel tree (include/linux/hotsplice.h) before it builds the post objects, like ksplice-create
 * did with ksplice-patch.h, so a patch simply includes it.
 *
 * Callbacks: a patch names functions it adds, and the update's loader runs them around patching and unpatching of
 * the klp object they belong to (vmlinux, or the module the patched file is part of):
 *
 *	static int check_state(void) { return ready ? 0 : -EBUSY; }
 *	hotsplice_pre_patch(check_state);
 *
 * pre_patch runs before any function of its object is redirected; a non-zero return refuses the update. post_patch
 * runs after the transition finished, pre_unpatch before undo starts, post_unpatch after undo finished
 * (Documentation/livepatch/callbacks.rst). The differ finds them in their `.hotsplice.<kind>` sections.
 *
 * Shadow variables: data the patch attaches to an existing object (a task, an inode) without changing its layout,
 * through livepatch's shadow API (kernel/livepatch/shadow.c; Documentation/livepatch/shadow-vars.rst).
 */
#ifndef _LINUX_HOTSPLICE_H
#define _LINUX_HOTSPLICE_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/livepatch.h>

#define __hotsplice_callback(kind, type, fn)                                          \
	static type (*const __hotsplice_##kind##_##fn)(void) __used                   \
		__section(".hotsplice." #kind) = fn

#define hotsplice_pre_patch(fn) __hotsplice_callback(pre_patch, int, fn)
#define hotsplice_post_patch(fn) __hotsplice_callback(post_patch, void, fn)
#define hotsplice_pre_unpatch(fn) __hotsplice_callback(pre_unpatch, void, fn)
#define hotsplice_post_unpatch(fn) __hotsplice_callback(post_unpatch, void, fn)

/* The shadow variable `id` of `obj`, or NULL. */
static inline void *hotsplice_shadow_get(void *obj, unsigned long id)
{
	return klp_shadow_get(obj, id);
}

/* The shadow variable `id` of `obj`, allocated zero-filled on first use; NULL when out of memory. */
static inline void *hotsplice_shadow_get_or_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp)
{
	return klp_shadow_get_or_alloc(obj, id, size, gfp, NULL, NULL);
}

static inline void hotsplice_shadow_free(void *obj, unsigned long id)
{
	klp_shadow_free(obj, id, NULL);
}

/* Free every shadow variable `id` (e.g. from a post_unpatch callback). */
static inline void hotsplice_shadow_free_all(unsigned long id)
{
	klp_shadow_free_all(id, NULL);
}

#endif /* _LINUX_HOTSPLICE_H */
