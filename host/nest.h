/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-nest internals shared by main.c (the uAPI), iommufd_glue.c (every
 * interaction with iommufd and VFIO) and fmt_*.c (page-table formats).
 */
#ifndef _VFIO_NEST_NEST_H
#define _VFIO_NEST_NEST_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "../common/arm_lpae_cfg.h"
#include "../common/vfio_nest.h"

struct file;
struct mm_struct;
struct poll_table_struct;

/*
 * A fixed misc minor, so that a devname alias can load the module when
 * /dev/vfio-nest is opened: 243-254 are reserved for local use
 * (Documentation/admin-guide/devices.txt); 243 is ours.
 */
#define VFIO_NEST_MINOR		243

/* A CD is 64 bytes; two slots let a re-attach switch without a gap. */
#define VN_CD_SLOTS		2
#define VN_CD_BYTES		64
/* Raw IOMMU commands one generic entry may expand to, at most. */
#define VN_MAX_CMDS_PER_ENTRY	24
/* Commands converted and issued per IOMMU_HWPT_INVALIDATE call. */
#define VN_INV_CHUNK		1024
/* Invalidations after an STE switch: tries on a transient ENOMEM. */
#define VN_SWITCH_INV_TRIES	3
/* Invalidation entries copied from userspace at a time. */
#define VN_INV_FETCH		64
/* Longest invalidation entry: fixed, so 4K/16K/64K hosts answer alike. */
#define VN_INV_ENTRY_LEN_MAX	4096

/**
 * struct vn_hw - what the IOMMU behind a device offers
 * @idr: raw SMMUv3 IDR0..IDR5
 * @caps: the same, as the Arm LPAE configuration rules want them
 * @nesting: stage 1 + stage 2 present and S2FWB, so iommufd lets us nest
 */
struct vn_hw {
	u32 idr[6];
	struct arm_lpae_caps caps;
	bool nesting;
};

/**
 * struct vn_cmd - one raw IOMMU invalidation command (SMMUv3: 2 x le64)
 * @data: command words, little-endian as the hardware queue wants them
 */
struct vn_cmd {
	__le64 data[2];
};

/**
 * struct vn_inv_prep - what INVALIDATE needs of a table, derived once by
 * vn_fmt_ops.prepare when the table is attached, so that each entry costs
 * a few compares instead of decoding the configuration again
 * @asid_limit: ASIDs below it are valid
 * @tg: translation granule (log2) of the lower [0] and upper [1] VA half
 * @leaf_ok: bit n set when 1 << n is a leaf size of that half's granule
 * @d1: command word 1 bits common to that half's VA invalidations
 */
struct vn_inv_prep {
	u32 asid_limit;
	u8 tg[2];
	u64 leaf_ok[2];
	u64 d1[2];
};

/**
 * struct vn_inv_cache - the last one-page VA entry of an INVALIDATE call
 * that became exactly one command, so that the next entry of the same
 * kind (same flags, ASID, leaf size and VA half: guests flush scattered
 * pages one entry each) only needs its address checked and patched in.
 * Zeroed at the start of each call; private to the format.
 * @valid: the fields below describe a validated entry
 * @upper: its VA half
 * @flags: its flags
 * @asid: its ASID
 * @shift: its granule_shift
 * @d0: its command word 0
 * @d1: its command word 1, address bits clear
 */
struct vn_inv_cache {
	bool valid;
	bool upper;
	u32 flags;
	u32 asid;
	u32 shift;
	u64 d0;
	u64 d1;
};

/**
 * struct vn_table - a guest table configuration, format-neutral wrapper
 * @format: enum vfio_nest_format
 * @lpae: the Arm LPAE configuration (the only format today)
 * @inv: derived from the above for INVALIDATE
 */
struct vn_table {
	u32 format;
	struct arm_lpae_cfg lpae;
	struct vn_inv_prep inv;
};

/**
 * struct vn_fmt_ops - one page-table format on one IOMMU architecture
 * @format: enum vfio_nest_format it implements
 * @caps_from_hw: fill @hw->caps and @hw->nesting from @hw->idr
 * @validate: check @table against @hw; 0 or -errno with *@field set
 * @prepare: fill @table->inv for a validated @table
 * @encode_cd: the context descriptor for @table, VN_CD_BYTES
 * @encode_ste: the vSTE pointing at a CD at IPA @cd_ipa
 * @invalidate: turn one entry into commands (at most
 *	VN_MAX_CMDS_PER_ENTRY) for stream @vsid, with @table prepared and
 *	@cache (or NULL) kept across the entries of one call; returns the
 *	count or -errno with *@field set
 * @decode_event: turn a raw event record into a fault record; false if it
 *	is not a fault of this device worth reporting
 */
struct vn_fmt_ops {
	u32 format;
	void (*caps_from_hw)(struct vn_hw *hw);
	int (*validate)(const struct vn_hw *hw, const struct vn_table *table,
			u64 ipa_size, u32 *field);
	void (*prepare)(const struct vn_hw *hw, struct vn_table *table);
	void (*encode_cd)(const struct vn_hw *hw, const struct vn_table *table,
			  __le64 *cd);
	void (*encode_ste)(u64 cd_ipa, __le64 *ste);
	int (*invalidate)(const struct vn_hw *hw, const struct vn_table *table,
			  u32 vsid, const struct vfio_nest_inv_entry *entry,
			  struct vn_inv_cache *cache, struct vn_cmd *cmds,
			  u32 *field);
	bool (*decode_event)(const void *raw, size_t len,
			     struct vfio_nest_fault *fault);
};

extern const struct vn_fmt_ops vn_fmt_arm_lpae;

/**
 * struct vn_ctx - one open file of /dev/vfio-nest: one VM
 * @ref: the file's reference, and one for each device unbind in progress
 * @lock: serialises every operation of this context (ioctl, read, release)
 * @devices: struct vn_dev list
 * @wq: poll() waiters, woken by any device's event queue
 * @scratch_mm: the mm the context belongs to (mmgrab'ed): the first that
 *	drove iommufd through it; @scratch_uva lives there. NULL before.
 * @scratch_uva: user buffer for the iommufd/VFIO ioctl arguments
 * @scratch_len: its length
 * @entries: VN_INV_FETCH invalidation entries copied in by INVALIDATE
 * @entries_valid: how many of @entries the last block copy filled
 * @cmds: VN_INV_CHUNK commands being built by INVALIDATE
 * @cmd_entry_end: for each entry of the chunk, the end of its commands
 */
struct vn_ctx {
	struct kref ref;
	struct mutex lock;	/* see above */
	struct list_head devices;
	wait_queue_head_t wq;
	struct mm_struct *scratch_mm;
	unsigned long scratch_uva;
	size_t scratch_len;
	struct vfio_nest_inv_entry *entries;
	u32 entries_valid;
	struct vn_cmd *cmds;
	u32 *cmd_entry_end;
};

/**
 * struct vn_dev - one device attached through a context
 * @node: in vn_ctx.devices
 * @ctx: owner
 * @device_file: the VFIO device cdev file (reference held)
 * @iommufd_file: the iommufd file it is bound to (reference held)
 * @veventq_file: the vEVENTQ file, taken out of the VMM's fd table
 * @mm: the VMM's mm that holds @cd_uva (mmgrab'ed)
 * @dev_id: iommufd device id
 * @ioas_id: the VM's stage-2 IOAS
 * @s2_hwpt_id: NEST_PARENT HWPT on @ioas_id: allocated by us, or the VMM's
 * @s2_owned: @s2_hwpt_id was allocated by us (and is destroyed by us)
 * @viommu_id: vIOMMU on @s2_hwpt_id
 * @vdevice_id: vDEVICE of @dev_id in @viommu_id
 * @veventq_id: vEVENTQ of @viommu_id
 * @nested_hwpt_id: nested HWPT the device is attached to, 0 when detached
 * @vsid: virtual stream id of the vDEVICE
 * @host_ipa: where the CD page sits in the stage 2
 * @cd_uva: the CD page in @mm
 * @cd_slot: slot of the CD in force
 * @hw: IOMMU capabilities
 * @fmt: format of @table
 * @table: configuration in force
 * @lost: fault records were lost before the next one
 * @evt_pt: registers @evt_wait on the vEVENTQ's wait queue
 * @evt_wait: forwards vEVENTQ wake-ups to vn_ctx.wq
 * @evt_wqh: the vEVENTQ wait queue @evt_wait is on, or NULL
 */
struct vn_dev {
	struct list_head node;
	struct vn_ctx *ctx;
	struct file *device_file;
	struct file *iommufd_file;
	struct file *veventq_file;
	struct mm_struct *mm;
	u32 dev_id;
	u32 ioas_id;
	u32 s2_hwpt_id;
	bool s2_owned;
	u32 viommu_id;
	u32 vdevice_id;
	u32 veventq_id;
	u32 nested_hwpt_id;
	u32 vsid;
	u64 host_ipa;
	unsigned long cd_uva;
	unsigned int cd_slot;
	struct vn_hw hw;
	const struct vn_fmt_ops *fmt;
	struct vn_table table;
	bool lost;
	poll_table evt_pt;
	wait_queue_entry_t evt_wait;
	wait_queue_head_t *evt_wqh;
};

/* iommufd_glue.c: the only file that talks to iommufd and VFIO. */
int vn_glue_get_files(int device_fd, int iommufd, struct file **device_file,
		      struct file **iommufd_file, u32 *field);
int vn_glue_check_binding(struct file *device_file, struct file *iommufd_file,
			  u32 dev_id, u32 *field);
int vn_glue_hw_info(struct vn_ctx *ctx, struct file *iommufd_file, u32 dev_id,
		    struct vn_hw *hw);
int vn_glue_check_ioas(struct vn_ctx *ctx, struct file *iommufd_file,
		       u32 ioas_id);
int vn_glue_nest_alloc(struct vn_dev *dev, u32 *field);
int vn_glue_write_cd(struct vn_dev *dev, unsigned int slot, const __le64 *cd);
int vn_glue_install(struct vn_dev *dev, const __le64 *ste);
int vn_glue_invalidate(struct vn_dev *dev, const struct vn_cmd *cmds,
		       u32 *nr);
int vn_glue_detach(struct vn_dev *dev, bool abort);
void vn_glue_nest_free(struct vn_dev *dev);
bool vn_glue_can_use_mm(struct vn_dev *dev);
ssize_t vn_glue_read_events(struct vn_dev *dev, void *buf, size_t len);
int vn_glue_read_faults(struct vn_dev *dev, struct vfio_nest_fault *out,
			unsigned int max);
__poll_t vn_glue_events_pending(struct vn_dev *dev);
void vn_glue_scratch_unmap(struct vn_ctx *ctx);
void vn_glue_scratch_free(struct vn_ctx *ctx);

#endif /* _VFIO_NEST_NEST_H */
