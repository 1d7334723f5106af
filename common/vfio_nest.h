/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio-nest: nested (stage 1 over stage 2) translation for VFIO devices on
 * arm-smmu-v3, driven by a VMM through /dev/vfio-nest.
 *
 * Conventions follow include/uapi/linux/iommufd.h: every ioctl argument starts
 * with __u32 size (the size of the structure userspace knows) and __u32 flags;
 * reserved fields must be zero; a structure longer than the kernel knows is
 * accepted only if its tail is zero (E2BIG otherwise).
 */
#ifndef _UAPI_VFIO_NEST_H
#define _UAPI_VFIO_NEST_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VFIO_NEST_API_VERSION	1

#define VFIO_NEST_TYPE		(';')

enum {
	VFIO_NEST_CMD_BASE = 0x80,
	VFIO_NEST_CMD_GET_VERSION = VFIO_NEST_CMD_BASE,
};

/**
 * struct vfio_nest_version - ioctl(VFIO_NEST_GET_VERSION)
 * @size: sizeof(struct vfio_nest_version)
 * @flags: must be 0
 * @version: output: the uAPI version the module implements
 *           (VFIO_NEST_API_VERSION)
 * @__reserved: must be 0
 */
struct vfio_nest_version {
	__u32 size;
	__u32 flags;
	__u32 version;
	__u32 __reserved;
};

#define VFIO_NEST_GET_VERSION	_IO(VFIO_NEST_TYPE, VFIO_NEST_CMD_GET_VERSION)

#endif /* _UAPI_VFIO_NEST_H */
