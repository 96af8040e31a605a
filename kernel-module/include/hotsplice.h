/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotsplice.h - what the generated metadata file (hotsplice-meta.c, written by @hotsplice/link generateMeta) and
 * the loader (loader/hotsplice-loader.c) share.
 *
 * The generated file declares one klp_func table per klp object and one klp_object table:
 *
 *	HOTSPLICE_NEW_FUNC(__hotsplice_vmlinux__version_proc_show__0);
 *
 *	HOTSPLICE_FUNCS(hotsplice_funcs_vmlinux,
 *		HOTSPLICE_FUNC("version_proc_show", __hotsplice_vmlinux__version_proc_show__0, 0));
 *
 *	HOTSPLICE_OBJECTS(
 *		HOTSPLICE_OBJECT(NULL, hotsplice_funcs_vmlinux));
 *
 *	HOTSPLICE_HOOKS(
 *		{ .post_patch = hotsplice_post_patch_0 });
 *
 *	HOTSPLICE_REPLACE(false);
 *
 * The loader builds the klp_patch from hotsplice_objects and hotsplice_replace. Livepatch's structures are the
 * kernel's (include/linux/livepatch.h); nothing here changes their meaning.
 */
#ifndef _HOTSPLICE_H
#define _HOTSPLICE_H

#include <linux/livepatch.h>
#include <linux/types.h>

/*
 * A replacement function. Its body lives in the shipped new-code object, as a local copy of the patched
 * function with this global alias; only its address is used here, so the C type does not matter.
 */
#define HOTSPLICE_NEW_FUNC(sym) extern void sym(void)

/*
 * One replaced function: old_name as kallsyms knows it, old_sympos 0 when the name is unique in its object,
 * else its position among same-named symbols (kernel/livepatch/core.c klp_find_object_symbol).
 */
#define HOTSPLICE_FUNC(old, new, pos) \
	{ .old_name = (old), .new_func = (void *)(new), .old_sympos = (pos) }

/* A klp_func table, terminated by the empty entry klp_init_object() stops at (klp_for_each_func_static). */
#define HOTSPLICE_FUNCS(table, ...) \
	static struct klp_func table[] = { __VA_ARGS__, {} }

/*
 * The klp_func table of an object the patch only has callbacks for: livepatch needs a table (klp_init_patch_early
 * refuses obj->funcs == NULL), and an empty one patches nothing while the object's callbacks still run.
 */
#define HOTSPLICE_NO_FUNCS(table) \
	static struct klp_func table[] = { {} }

/* A callback the patch added (<linux/hotsplice.h>), by the global alias its new code carries. */
#define HOTSPLICE_CALLBACK(type, sym) extern type sym(void)
/* The same for a callback that takes the klp object it runs for. */
#define HOTSPLICE_CALLBACK_OBJ(type, sym) extern type sym(struct klp_object *obj)

/* The patch's callbacks of one klp object; the generated file runs several of one kind in source order. */
struct hotsplice_hooks {
	int (*pre_patch)(struct klp_object *obj);
	void (*post_patch)(struct klp_object *obj);
	void (*pre_unpatch)(struct klp_object *obj);
	void (*post_unpatch)(struct klp_object *obj);
};

/* One entry per klp object, in the order of hotsplice_objects. */
extern const struct hotsplice_hooks hotsplice_hooks[];
#define HOTSPLICE_HOOKS(...) \
	const struct hotsplice_hooks hotsplice_hooks[] = { __VA_ARGS__, {} }

/*
 * Callbacks livepatch runs per klp object around patching and unpatching (Documentation/livepatch/callbacks.rst).
 * The loader defines them; a pre_patch error stops the object (and so the patch) from being patched.
 */
int hotsplice_pre_patch(struct klp_object *obj);
void hotsplice_post_patch(struct klp_object *obj);
void hotsplice_pre_unpatch(struct klp_object *obj);
void hotsplice_post_unpatch(struct klp_object *obj);

#define HOTSPLICE_CALLBACKS                                                   \
	{                                                                     \
		.pre_patch = hotsplice_pre_patch,                             \
		.post_patch = hotsplice_post_patch,                           \
		.pre_unpatch = hotsplice_pre_unpatch,                         \
		.post_unpatch = hotsplice_post_unpatch,                       \
	}

/* A klp object: name NULL for vmlinux, else the module's name (its functions are patched when it loads). */
#define HOTSPLICE_OBJECT(objname, funcs_table) \
	{ .name = (objname), .funcs = (funcs_table), .callbacks = HOTSPLICE_CALLBACKS }

/* The object table the loader patches with, terminated by an empty entry (klp_for_each_object_static). */
extern struct klp_object hotsplice_objects[];
#define HOTSPLICE_OBJECTS(...) \
	struct klp_object hotsplice_objects[] = { __VA_ARGS__, {} }

/*
 * A vmlinux symbol the loader uses though vmlinux does not export it, reached the way a livepatch reaches any such
 * symbol (Documentation/livepatch/module-elf-format.rst): the object file names it `.klp.sym.vmlinux.<name>,0`, a
 * WEAK undefined symbol (modpost asks no export of a weak one) - the form the link step's toLinkable gives the new
 * code's klp symbols. finalizeKlp then turns every reference into a `.klp.rela.vmlinux.*` relocation, which the
 * module loader has livepatch resolve through kallsyms at load time (kernel/module/main.c apply_relocations →
 * klp_apply_section_relocs). Position 0: the name must be unique in vmlinux (the link step checks System.map).
 *
 *	extern int hs_wake_up_state(struct task_struct *p, unsigned int state) HOTSPLICE_VMLINUX_SYMBOL(wake_up_state);
 */
#define HOTSPLICE_VMLINUX_SYMBOL(name) __asm__("\".klp.sym.vmlinux." #name ",0\"") __weak

/* Transition control (hotsplice-control.c): signals the tasks that hold a transition of `patch` open. */
void hotsplice_control_init(void);
void hotsplice_control_arm(struct klp_patch *patch);
void hotsplice_control_stop(void);

/* klp_patch.replace: true makes this patch replace every patch enabled before it (atomic replace). */
extern const bool hotsplice_replace;
#define HOTSPLICE_REPLACE(value) const bool hotsplice_replace = (value)

#endif /* _HOTSPLICE_H */
