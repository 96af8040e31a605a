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
 * (Documentation/livepatch/callbacks.rst). A callback may also take the klp object it runs for (`static int
 * check_state(struct klp_object *obj)`: obj->mod is the module, NULL for vmlinux). The differ finds them in their
 * `.hotsplice.<kind>` sections. An object may register callbacks and change no function at all.
 *
 * Markers for the differ (kpatch-build's KPATCH_IGNORE_* and KPATCH_FORCE_UNSAFE; kpatch-macros.h maps onto these):
 *
 *	hotsplice_ignore_function(fn);		a change to fn is a side effect, not part of the fix: fn stays as it is
 *	hotsplice_ignore_section(".text.foo");	the same for everything in that section
 *	hotsplice_force_unsafe(fn);		fn is always on some task's stack and its old and new copies may run
 *						side by side: apply may force the transition when only tasks in
 *						fn hold it (livepatch then never lets the module unload)
 *
 * Shadow variables: data the patch attaches to an existing object (a task, an inode) without changing its layout,
 * through livepatch's shadow API (kernel/livepatch/shadow.c; Documentation/livepatch/shadow-vars.rst).
 */
#ifndef _LINUX_HOTSPLICE_H
#define _LINUX_HOTSPLICE_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/livepatch.h>

/*
 * One registration: the function, and whether it takes the klp object (chosen by its type; any other type does not
 * compile). The differ reads both: the relocation at +0 and the flag at +8.
 */
struct hotsplice_callback {
	void *function;
	unsigned long takes_object;
};

#define __hotsplice_callback(kind, type, callback)                                             \
	static const struct hotsplice_callback __hotsplice_##kind##_##callback __used          \
		__section(".hotsplice." #kind) = {                                             \
			.function = (void *)(callback),                                        \
			.takes_object = _Generic((callback), type (*)(void): 0,                \
						 type (*)(struct klp_object *): 1),            \
		}

#define hotsplice_pre_patch(fn) __hotsplice_callback(pre_patch, int, fn)
#define hotsplice_post_patch(fn) __hotsplice_callback(post_patch, void, fn)
#define hotsplice_pre_unpatch(fn) __hotsplice_callback(pre_unpatch, void, fn)
#define hotsplice_post_unpatch(fn) __hotsplice_callback(post_unpatch, void, fn)

#define hotsplice_ignore_function(fn)                                                          \
	static void *const __hotsplice_ignore_function_##fn __used                             \
		__section(".hotsplice.ignore_function") = (void *)(fn)
#define hotsplice_ignore_section(name)                                                         \
	static const char *const __UNIQUE_ID(hotsplice_ignore_section_) __used                 \
		__section(".hotsplice.ignore_section") = (name)
#define hotsplice_force_unsafe(fn)                                                             \
	static void *const __hotsplice_force_unsafe_##fn __used                                \
		__section(".hotsplice.force_unsafe") = (void *)(fn)

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
