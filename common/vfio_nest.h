/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio-nest: nested (stage 1 over stage 2) translation for VFIO devices on
 * arm-smmu-v3, driven by a VMM through /dev/vfio-nest.
 *
 * Each open file of /dev/vfio-nest is one VM context. The VMM opens its VFIO
 * devices through their cdevs and binds them to an iommufd itself; it then
 * hands /dev/vfio-nest a device (device fd + iommufd + iommufd device id),
 * the VM's stage 2 (an IOAS id in that iommufd, optionally with a
 * NEST_PARENT HWPT the VMM allocated on it) and the
 * guest's page-table configuration in an architecture-neutral form. The
 * module builds every IOMMU-specific structure (context descriptor, stream
 * table entry, invalidation commands) itself; the VMM never composes one.
 *
 * Conventions follow include/uapi/linux/iommufd.h: every ioctl argument starts
 * with __u32 size (the size of the structure userspace knows) and __u32 flags;
 * reserved fields must be zero (EINVAL); unknown flags get EOPNOTSUPP; a
 * structure shorter than its last mandatory field gets EINVAL; one longer than
 * the kernel knows is accepted only if its tail is zero (E2BIG otherwise).
 * Refusals of a configuration value also name the field in out_bad_field
 * (enum vfio_nest_field); the kernel logs them at debug level only.
 *
 * Fault records of attached devices are read() from the /dev/vfio-nest file
 * itself (struct vfio_nest_fault, non-blocking); poll() reports POLLIN when
 * one is pending.
 */
#ifndef _UAPI_VFIO_NEST_H
#define _UAPI_VFIO_NEST_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VFIO_NEST_API_VERSION	1

/*
 * ioctl type 'J', numbers 0x00-0x04: a type that no kernel uAPI uses
 * (Documentation/userspace-api/ioctl/ioctl-number.rst of Linux 7.2 lists
 * none, nor does include/uapi). The numbers follow the iommufd convention
 * (_IO, the size travels in the structure), so they must not collide with
 * another driver's: sent by mistake to an iommufd or VFIO fd (';'), or to
 * anything else, they get ENOTTY instead of running that driver's command.
 */
#define VFIO_NEST_TYPE		('J')

enum {
	VFIO_NEST_CMD_BASE = 0x00,
	VFIO_NEST_CMD_GET_VERSION = VFIO_NEST_CMD_BASE,
	VFIO_NEST_CMD_GET_INFO,
	VFIO_NEST_CMD_ATTACH_TABLE,
	VFIO_NEST_CMD_DETACH_TABLE,
	VFIO_NEST_CMD_INVALIDATE,
};

/**
 * enum vfio_nest_format - page-table formats a guest can hand over
 * @VFIO_NEST_FORMAT_ARM_LPAE_S1: Arm VMSAv8-64 stage 1 (LPAE), configured by
 *	TCR_EL1/TTBR0_EL1/TTBR1_EL1/MAIR_EL1 layouts as in common/arm_lpae_cfg.h
 */
enum vfio_nest_format {
	VFIO_NEST_FORMAT_ARM_LPAE_S1 = 1,
};

/**
 * enum vfio_nest_field - which field of a request was refused
 * @VFIO_NEST_FIELD_NONE: no field (success, or an error not tied to a field)
 * @VFIO_NEST_FIELD_FLAGS: flags
 * @VFIO_NEST_FIELD_RESERVED: a __reserved field
 * @VFIO_NEST_FIELD_DEVICE_FD: device_fd
 * @VFIO_NEST_FIELD_IOMMUFD: iommufd
 * @VFIO_NEST_FIELD_DEV_ID: dev_id
 * @VFIO_NEST_FIELD_S2_PT_ID: s2_pt_id
 * @VFIO_NEST_FIELD_HOST_IPA: host_ipa
 * @VFIO_NEST_FIELD_IPA_SIZE: ipa_size
 * @VFIO_NEST_FIELD_FORMAT: format
 * @VFIO_NEST_FIELD_ASID: asid
 * @VFIO_NEST_FIELD_TCR: tcr (bits outside every named field)
 * @VFIO_NEST_FIELD_TCR_T0SZ: tcr.T0SZ
 * @VFIO_NEST_FIELD_TCR_T1SZ: tcr.T1SZ
 * @VFIO_NEST_FIELD_TCR_TG0: tcr.TG0
 * @VFIO_NEST_FIELD_TCR_TG1: tcr.TG1
 * @VFIO_NEST_FIELD_TCR_SH0: tcr.SH0
 * @VFIO_NEST_FIELD_TCR_SH1: tcr.SH1
 * @VFIO_NEST_FIELD_TCR_EPD: tcr.EPD0/EPD1 (both set)
 * @VFIO_NEST_FIELD_TCR_IPS: tcr.IPS
 * @VFIO_NEST_FIELD_TCR_HA: tcr.HA
 * @VFIO_NEST_FIELD_TCR_HD: tcr.HD
 * @VFIO_NEST_FIELD_TCR_AS: tcr.AS
 * @VFIO_NEST_FIELD_TTBR0: ttbr0
 * @VFIO_NEST_FIELD_TTBR1: ttbr1
 * @VFIO_NEST_FIELD_MAIR: mair
 * @VFIO_NEST_FIELD_ENTRY_LEN: entry_len
 * @VFIO_NEST_FIELD_ENTRY_NUM: entry_num
 * @VFIO_NEST_FIELD_ENTRY_SCOPE: an invalidation entry's scope
 * @VFIO_NEST_FIELD_ENTRY_FLAGS: an invalidation entry's flags
 * @VFIO_NEST_FIELD_ENTRY_ASID: an invalidation entry's asid
 * @VFIO_NEST_FIELD_ENTRY_GRANULE: an invalidation entry's granule_shift
 * @VFIO_NEST_FIELD_ENTRY_IOVA: an invalidation entry's iova
 * @VFIO_NEST_FIELD_ENTRY_NR_PAGES: an invalidation entry's nr_pages
 * @VFIO_NEST_FIELD_ENTRY_RESERVED: an invalidation entry's __reserved
 * @VFIO_NEST_FIELD_S2_HWPT_ID: s2_hwpt_id
 */
enum vfio_nest_field {
	VFIO_NEST_FIELD_NONE = 0,
	VFIO_NEST_FIELD_FLAGS,
	VFIO_NEST_FIELD_RESERVED,
	VFIO_NEST_FIELD_DEVICE_FD,
	VFIO_NEST_FIELD_IOMMUFD,
	VFIO_NEST_FIELD_DEV_ID,
	VFIO_NEST_FIELD_S2_PT_ID,
	VFIO_NEST_FIELD_HOST_IPA,
	VFIO_NEST_FIELD_IPA_SIZE,
	VFIO_NEST_FIELD_FORMAT,
	VFIO_NEST_FIELD_ASID,
	VFIO_NEST_FIELD_TCR,
	VFIO_NEST_FIELD_TCR_T0SZ,
	VFIO_NEST_FIELD_TCR_T1SZ,
	VFIO_NEST_FIELD_TCR_TG0,
	VFIO_NEST_FIELD_TCR_TG1,
	VFIO_NEST_FIELD_TCR_SH0,
	VFIO_NEST_FIELD_TCR_SH1,
	VFIO_NEST_FIELD_TCR_EPD,
	VFIO_NEST_FIELD_TCR_IPS,
	VFIO_NEST_FIELD_TCR_HA,
	VFIO_NEST_FIELD_TCR_HD,
	VFIO_NEST_FIELD_TCR_AS,
	VFIO_NEST_FIELD_TTBR0,
	VFIO_NEST_FIELD_TTBR1,
	VFIO_NEST_FIELD_MAIR,
	VFIO_NEST_FIELD_ENTRY_LEN,
	VFIO_NEST_FIELD_ENTRY_NUM,
	VFIO_NEST_FIELD_ENTRY_SCOPE,
	VFIO_NEST_FIELD_ENTRY_FLAGS,
	VFIO_NEST_FIELD_ENTRY_ASID,
	VFIO_NEST_FIELD_ENTRY_GRANULE,
	VFIO_NEST_FIELD_ENTRY_IOVA,
	VFIO_NEST_FIELD_ENTRY_NR_PAGES,
	VFIO_NEST_FIELD_ENTRY_RESERVED,
	VFIO_NEST_FIELD_S2_HWPT_ID,
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

/* struct vfio_nest_info.out_caps */
#define VFIO_NEST_CAP_HW_ACCESS		0x1U /* TCR.HA accepted */
#define VFIO_NEST_CAP_HW_DIRTY		0x2U /* TCR.HD accepted */
#define VFIO_NEST_CAP_RANGE_INV		0x4U /* range TLBI in one command */
#define VFIO_NEST_CAP_NESTING		0x8U /* ATTACH_TABLE can work */
/* ATTACH_TABLE takes a VMM-allocated stage 2 in s2_hwpt_id */
#define VFIO_NEST_CAP_S2_HWPT		0x10U

/**
 * struct vfio_nest_info - ioctl(VFIO_NEST_GET_INFO)
 * @size: sizeof(struct vfio_nest_info)
 * @flags: must be 0
 * @iommufd: an iommufd file descriptor the device is bound to
 * @dev_id: the device's object id in @iommufd (VFIO_DEVICE_BIND_IOMMUFD's
 *          out_devid); ENOENT if there is no such device
 * @out_formats: bitmap, bit n set if enum vfio_nest_format n is supported
 *               behind this device
 * @out_granules: translation granules of the stage 1, the page sizes
 *                themselves (ARM_LPAE_GRANULE_*: 4K, 16K, 64K)
 * @out_ias: stage-1 input (virtual) address size in bits
 * @out_oas: stage-1 output (intermediate physical) address size in bits;
 *           TCR.IPS may not exceed it
 * @out_asid_bits: ASID width (8 or 16)
 * @out_caps: VFIO_NEST_CAP_* bits; HW_ACCESS/HW_DIRTY mirror the SMMU's
 *            HTTU, RANGE_INV its RIL, NESTING says whether the SMMU can
 *            nest for this device at all (S2FWB); ATTACH_TABLE gets
 *            EOPNOTSUPP without it; S2_HWPT that ATTACH_TABLE accepts
 *            struct vfio_nest_attach_table.s2_hwpt_id (a module without
 *            it refuses a non-zero s2_hwpt_id with EINVAL, field
 *            __reserved)
 * @out_host_window: bytes of IPA space the VMM must reserve at
 *                   struct vfio_nest_attach_table.host_ipa (the host page
 *                   size; host_ipa must be aligned to it)
 * @out_smmu_idr: the SMMU's raw IDR0, IDR1, IDR3 and IDR5 for diagnostics;
 *                nothing in this uAPI needs them
 *
 * Every output is derived from the IOMMU's ID registers
 * (IOMMU_GET_HW_INFO), not assumed.
 */
struct vfio_nest_info {
	__u32 size;
	__u32 flags;
	__s32 iommufd;
	__u32 dev_id;
	__u32 out_formats;
	__u32 out_granules;
	__u32 out_ias;
	__u32 out_oas;
	__u32 out_asid_bits;
	__u32 out_caps;
	__aligned_u64 out_host_window;
	__u32 out_smmu_idr[4];
};

#define VFIO_NEST_GET_INFO	_IO(VFIO_NEST_TYPE, VFIO_NEST_CMD_GET_INFO)

/**
 * struct vfio_nest_attach_table - ioctl(VFIO_NEST_ATTACH_TABLE)
 * @size: sizeof(struct vfio_nest_attach_table)
 * @flags: must be 0
 * @device_fd: a VFIO device cdev fd (/dev/vfio/devices/vfioN) bound to
 *             @iommufd; EBADF if not a file, ENODEV if not a VFIO device
 *             opened through its cdev (a group's device fd is not)
 * @iommufd: the iommufd the device is bound to; EBADF if not a file,
 *           EBADFD if not an iommufd, EXDEV if the device is not bound to
 *           it (checked on the first attach of the device)
 * @dev_id: the device's object id in @iommufd; ENOENT if it is not
 * @s2_pt_id: the VM's stage 2 in @iommufd: an IOAS id. The module maps
 *            its host page there and, when @s2_hwpt_id is 0, allocates a
 *            NEST_PARENT HWPT on it; ENOENT if it is not an IOAS
 * @host_ipa: an IPA the VMM keeps free for host-owned structures,
 *            aligned to and @out_host_window bytes long
 *            (struct vfio_nest_info); the module maps a page it owns there,
 *            read-only for the device. EINVAL if unaligned, ERANGE beyond
 *            @ipa_size, EEXIST if the stage 2 already maps something there
 * @ipa_size: size of the VM's intermediate physical address space; table
 *            roots must lie below it (ERANGE). 0: the stage-1 output size
 * @format: enum vfio_nest_format; EPROTONOSUPPORT for another value
 * @asid: the guest's ASID for this table; ERANGE beyond out_asid_bits
 * @tcr: for ARM_LPAE_S1, TCR_EL1 layout (T0SZ, EPD0, IRGN0, ORGN0, SH0, TG0,
 *       T1SZ, EPD1, IRGN1, ORGN1, SH1, TG1, IPS, AS, HA, HD; other bits
 *       must be 0): EINVAL for a reserved or unsupported encoding, ERANGE for
 *       a size beyond the SMMU's limits
 * @ttbr0: root of the lower VA range (IPA), 0 if TCR.EPD0; aligned to the
 *         root table size
 * @ttbr1: root of the upper VA range (IPA), 0 if TCR.EPD1
 * @mair: MAIR_EL1 layout; every attribute byte must be a defined encoding
 * @out_bad_field: on EINVAL/ERANGE/EPROTONOSUPPORT/EBADF/EBADFD/ENODEV/EXDEV/
 *                 ENOENT/EEXIST/EBUSY, the enum vfio_nest_field that was
 *                 refused
 * @s2_hwpt_id: 0: the module allocates the stage 2 (a NEST_PARENT HWPT on
 *              @s2_pt_id, filled with every mapping of the IOAS: the cost
 *              of a first attach grows with guest RAM). Otherwise a paging
 *              HWPT that the VMM allocated on @s2_pt_id itself with
 *              IOMMU_HWPT_ALLOC_NEST_PARENT for a device of the same IOMMU
 *              instance: the table nests over it, the module allocates no
 *              stage 2, and DETACH_TABLE without ABORT attaches the device
 *              back to it. ENOENT if @iommufd has no object with this id;
 *              EINVAL if the object is not a paging HWPT allocated with
 *              NEST_PARENT (an IOAS, a device, a nested HWPT, ...) or
 *              belongs to another IOMMU instance (iommufd does not tell
 *              the two apart). That it was allocated on @s2_pt_id cannot
 *              be checked through iommufd: otherwise the IOMMU cannot read
 *              the configuration and the device's DMA faults (C_BAD_CD),
 *              in this VM only. Was __reserved, must be 0, in version 1
 *              of this structure: binaries built against it keep the
 *              IOAS form (VFIO_NEST_CAP_S2_HWPT says a module has it)
 *
 * Installs the guest's table as stage 1 of @device_fd, nested over the
 * stage 2 @s2_pt_id (or @s2_hwpt_id). A second ATTACH_TABLE for an attached
 * device replaces the configuration without a window of abort or bypass
 * (new context descriptor, STE switched, then the old ASID's TLB entries
 * are invalidated); it must name the same @iommufd, @dev_id, @s2_pt_id,
 * @s2_hwpt_id and @host_ipa (EBUSY otherwise). A device attached through
 * another /dev/vfio-nest file gets EBUSY.
 */
struct vfio_nest_attach_table {
	__u32 size;
	__u32 flags;
	__s32 device_fd;
	__s32 iommufd;
	__u32 dev_id;
	__u32 s2_pt_id;
	__aligned_u64 host_ipa;
	__aligned_u64 ipa_size;
	__u32 format;
	__u32 asid;
	__aligned_u64 tcr;
	__aligned_u64 ttbr0;
	__aligned_u64 ttbr1;
	__aligned_u64 mair;
	__u32 out_bad_field;
	__u32 s2_hwpt_id;
};

#define VFIO_NEST_ATTACH_TABLE	_IO(VFIO_NEST_TYPE, VFIO_NEST_CMD_ATTACH_TABLE)

/* struct vfio_nest_detach_table.flags */
#define VFIO_NEST_DETACH_ABORT		0x1U

/**
 * struct vfio_nest_detach_table - ioctl(VFIO_NEST_DETACH_TABLE)
 * @size: sizeof(struct vfio_nest_detach_table)
 * @flags: 0: the device goes back to the stage 2 alone (it translates
 *         IPA = IOVA, as before ATTACH_TABLE: attached to the attach's
 *         s2_hwpt_id, or to its IOAS when that was 0);
 *         VFIO_NEST_DETACH_ABORT: the
 *         device is detached from its iommufd and all its DMA is blocked
 * @device_fd: a device attached through this file; ENOENT otherwise
 * @__reserved: must be 0
 *
 * Frees everything ATTACH_TABLE created in the iommufd (nested HWPT,
 * vDEVICE, vIOMMU, event queue, the host page at host_ipa, and the stage-2
 * HWPT when the module allocated it; a VMM's s2_hwpt_id stays the VMM's).
 */
struct vfio_nest_detach_table {
	__u32 size;
	__u32 flags;
	__s32 device_fd;
	__u32 __reserved;
};

#define VFIO_NEST_DETACH_TABLE	_IO(VFIO_NEST_TYPE, VFIO_NEST_CMD_DETACH_TABLE)

/**
 * enum vfio_nest_inv_scope - what one invalidation entry covers
 * @VFIO_NEST_INV_SCOPE_ALL: every stage-1 TLB entry of the VM
 * @VFIO_NEST_INV_SCOPE_ASID: every entry of one ASID
 * @VFIO_NEST_INV_SCOPE_VA: a VA range of one ASID
 */
enum vfio_nest_inv_scope {
	VFIO_NEST_INV_SCOPE_ALL = 0,
	VFIO_NEST_INV_SCOPE_ASID = 1,
	VFIO_NEST_INV_SCOPE_VA = 2,
};

/* struct vfio_nest_inv_entry.flags */
#define VFIO_NEST_INV_LEAF	0x1U /* only leaf entries changed */
#define VFIO_NEST_INV_CONFIG	0x2U /* also the cached configuration */

/**
 * struct vfio_nest_inv_entry - one generic invalidation
 * @scope: enum vfio_nest_inv_scope; EINVAL for another value
 * @flags: VFIO_NEST_INV_*; EOPNOTSUPP for unknown bits
 * @asid: ASID for scopes ASID and VA (ERANGE beyond out_asid_bits); must be
 *        0 for scope ALL
 * @granule_shift: scope VA: log2 of the size of each of the @nr_pages
 *                 pages (a leaf size of the table: 12..16 for a 4K..64K
 *                 granule, or a block size such as 21 or 30); EINVAL if the
 *                 table's granule cannot have such leaves. 0 for other scopes
 * @iova: scope VA: first address, aligned to 1 << @granule_shift (EINVAL);
 *        0 for other scopes
 * @nr_pages: scope VA: number of pages, at least 1 (EINVAL); the range may
 *            not wrap (EOVERFLOW); 0 for other scopes
 * @__reserved: must be 0
 */
struct vfio_nest_inv_entry {
	__u32 scope;
	__u32 flags;
	__u32 asid;
	__u32 granule_shift;
	__aligned_u64 iova;
	__aligned_u64 nr_pages;
	__aligned_u64 __reserved;
};

/* Upper bound of struct vfio_nest_invalidate.entry_num per call */
#define VFIO_NEST_INV_MAX_ENTRIES	4096

/**
 * struct vfio_nest_invalidate - ioctl(VFIO_NEST_INVALIDATE)
 * @size: sizeof(struct vfio_nest_invalidate)
 * @flags: must be 0
 * @device_fd: a device attached through this file (ENOENT otherwise)
 * @entry_len: sizeof(struct vfio_nest_inv_entry) as userspace knows it;
 *             EINVAL if shorter than the first version or longer than 4096
 *             (whatever the host's page size), a longer entry must have a
 *             zero tail (E2BIG)
 * @entry_num: input: number of entries (0..VFIO_NEST_INV_MAX_ENTRIES,
 *             EINVAL beyond); output: number of entries fully handled, so
 *             on error entries[@entry_num] is the one that failed
 * @entries_uptr: user pointer to the array of entries
 * @out_bad_field: on error, the enum vfio_nest_field that was refused
 * @__reserved: must be 0
 * @__reserved2: must be 0
 *
 * All entries become IOMMU commands (Arm SMMUv3: TLBI_NH_ALL, TLBI_NH_ASID,
 * TLBI_NH_VA in range form when the SMMU has RIL, CFGI_CD) issued in one
 * batch with one completion. Entries before a malformed one are still
 * issued.
 */
struct vfio_nest_invalidate {
	__u32 size;
	__u32 flags;
	__s32 device_fd;
	__u32 entry_len;
	__u32 entry_num;
	__u32 out_bad_field;
	__aligned_u64 entries_uptr;
	__u32 __reserved;
	__u32 __reserved2;
};

#define VFIO_NEST_INVALIDATE	_IO(VFIO_NEST_TYPE, VFIO_NEST_CMD_INVALIDATE)

/**
 * enum vfio_nest_fault_reason - why a DMA faulted in stage 1
 * @VFIO_NEST_FAULT_TRANSLATION: no valid translation (F_TRANSLATION)
 * @VFIO_NEST_FAULT_PERMISSION: access not permitted (F_PERMISSION)
 * @VFIO_NEST_FAULT_ACCESS: access flag clear (F_ACCESS)
 * @VFIO_NEST_FAULT_ADDR_SIZE: address beyond a size limit (F_ADDR_SIZE)
 * @VFIO_NEST_FAULT_CONFIG: the configuration could not be used (C_BAD_CD,
 *	C_BAD_STE, stream disabled)
 * @VFIO_NEST_FAULT_OTHER: anything else the IOMMU reported
 */
enum vfio_nest_fault_reason {
	VFIO_NEST_FAULT_TRANSLATION = 1,
	VFIO_NEST_FAULT_PERMISSION,
	VFIO_NEST_FAULT_ACCESS,
	VFIO_NEST_FAULT_ADDR_SIZE,
	VFIO_NEST_FAULT_CONFIG,
	VFIO_NEST_FAULT_OTHER,
};

/* struct vfio_nest_fault.flags */
#define VFIO_NEST_FAULT_WRITE		0x1U /* the access was a write */
/*
 * Raised by the stage-2 walk. arm-smmu-v3 (7.x) handles stage-2 faults in the
 * host and never forwards them, so it is not seen there today.
 */
#define VFIO_NEST_FAULT_STAGE2		0x2U
#define VFIO_NEST_FAULT_LOST		0x4U /* records were lost before */

/**
 * struct vfio_nest_fault - one fault record, read() from /dev/vfio-nest
 * @dev_id: iommufd device id (struct vfio_nest_attach_table.dev_id)
 * @reason: enum vfio_nest_fault_reason
 * @flags: VFIO_NEST_FAULT_*
 * @asid: the ASID of the configuration in force (attach-time value)
 * @iova: the faulting input address
 * @ipa: for a stage-2 fault, the IPA that missed; 0 otherwise
 * @raw_id: the IOMMU's own event code, for logs
 * @__reserved: 0
 */
struct vfio_nest_fault {
	__u32 dev_id;
	__u32 reason;
	__u32 flags;
	__u32 asid;
	__aligned_u64 iova;
	__aligned_u64 ipa;
	__u32 raw_id;
	__u32 __reserved;
};

#endif /* _UAPI_VFIO_NEST_H */
