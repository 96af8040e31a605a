/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-syscall.h for hotsplice: KPATCH_SYSCALL_DEFINE1..6 in place of SYSCALL_DEFINE1..6 in a patch to a
 * syscall body. kpatch needs them because the body lands in `__do_sys_<name>`, an inline gcc may keep out of line,
 * which then has no fentry call (inline implies notrace). hotsplice's differ carries such a body through the
 * syscall's wrappers (`__x64_sys_<name>`, `__ia32_sys_<name>`) by itself, so these are the kernel's own macros.
 */
#ifndef __KPATCH_SYSCALL_H_
#define __KPATCH_SYSCALL_H_

#include <linux/syscalls.h>
#include "kpatch-macros.h"

#define KPATCH_SYSCALL_DEFINE1(name, ...) SYSCALL_DEFINE1(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...) SYSCALL_DEFINE2(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...) SYSCALL_DEFINE3(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...) SYSCALL_DEFINE4(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...) SYSCALL_DEFINE5(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...) SYSCALL_DEFINE6(name, __VA_ARGS__)

#endif /* __KPATCH_SYSCALL_H_ */
