// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-nest: /dev/vfio-nest, nested translation for VFIO devices.
 *
 * This file is the uAPI: the misc device, one struct vn_ctx per open file,
 * argument checking and the ioctl table. iommufd_glue.c creates and drives
 * the iommufd objects; fmt_*.c knows page-table and IOMMU formats.
 *
 * Locking: ctx->lock serialises everything one file does (ioctls, read,
 * poll, release); vn_devices_lock protects the module-wide list that keeps
 * a device attached through one file at most. Order: ctx->lock, then
 * vn_devices_lock; nothing takes them the other way round.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "../common/version.h"
#include "nest.h"

static LIST_HEAD(vn_devices);		/* every struct vn_dev, by all_node */
static DEFINE_MUTEX(vn_devices_lock);
static struct workqueue_struct *vn_wq;	/* remote teardowns */

struct vn_dev_entry {
	struct list_head node;
	struct file *device_file;
	struct vn_ctx *ctx;
};

static const struct vn_fmt_ops *const vn_formats[] = {
	&vn_fmt_arm_lpae,
};

static const char *const vn_field_names[] = {
	[VFIO_NEST_FIELD_NONE] = "-",
	[VFIO_NEST_FIELD_FLAGS] = "flags",
	[VFIO_NEST_FIELD_RESERVED] = "__reserved",
	[VFIO_NEST_FIELD_DEVICE_FD] = "device_fd",
	[VFIO_NEST_FIELD_IOMMUFD] = "iommufd",
	[VFIO_NEST_FIELD_DEV_ID] = "dev_id",
	[VFIO_NEST_FIELD_S2_PT_ID] = "s2_pt_id",
	[VFIO_NEST_FIELD_HOST_IPA] = "host_ipa",
	[VFIO_NEST_FIELD_IPA_SIZE] = "ipa_size",
	[VFIO_NEST_FIELD_FORMAT] = "format",
	[VFIO_NEST_FIELD_ASID] = "asid",
	[VFIO_NEST_FIELD_TCR] = "tcr",
	[VFIO_NEST_FIELD_TCR_T0SZ] = "tcr.T0SZ",
	[VFIO_NEST_FIELD_TCR_T1SZ] = "tcr.T1SZ",
	[VFIO_NEST_FIELD_TCR_TG0] = "tcr.TG0",
	[VFIO_NEST_FIELD_TCR_TG1] = "tcr.TG1",
	[VFIO_NEST_FIELD_TCR_SH0] = "tcr.SH0",
	[VFIO_NEST_FIELD_TCR_SH1] = "tcr.SH1",
	[VFIO_NEST_FIELD_TCR_EPD] = "tcr.EPD0/EPD1",
	[VFIO_NEST_FIELD_TCR_IPS] = "tcr.IPS",
	[VFIO_NEST_FIELD_TCR_HA] = "tcr.HA",
	[VFIO_NEST_FIELD_TCR_HD] = "tcr.HD",
	[VFIO_NEST_FIELD_TCR_AS] = "tcr.AS",
	[VFIO_NEST_FIELD_TTBR0] = "ttbr0",
	[VFIO_NEST_FIELD_TTBR1] = "ttbr1",
	[VFIO_NEST_FIELD_MAIR] = "mair",
	[VFIO_NEST_FIELD_ENTRY_LEN] = "entry_len",
	[VFIO_NEST_FIELD_ENTRY_NUM] = "entry_num",
	[VFIO_NEST_FIELD_ENTRY_SCOPE] = "entry.scope",
	[VFIO_NEST_FIELD_ENTRY_FLAGS] = "entry.flags",
	[VFIO_NEST_FIELD_ENTRY_ASID] = "entry.asid",
	[VFIO_NEST_FIELD_ENTRY_GRANULE] = "entry.granule_shift",
	[VFIO_NEST_FIELD_ENTRY_IOVA] = "entry.iova",
	[VFIO_NEST_FIELD_ENTRY_NR_PAGES] = "entry.nr_pages",
	[VFIO_NEST_FIELD_ENTRY_RESERVED] = "entry.__reserved",
	[VFIO_NEST_FIELD_S2_HWPT_ID] = "s2_hwpt_id",
};

/*
 * vn_refuse - pass the errno of a refused field on. Logged at debug level
 * only (dynamic debug): refusals are the VMM's, or its guest's, to cause,
 * and must not flood the host's log.
 */
static int vn_refuse(const char *op, u32 field, int err)
{
	const char *name = field < ARRAY_SIZE(vn_field_names) &&
			   vn_field_names[field] ? vn_field_names[field] : "?";

	pr_debug("%s: %s refused: %d (pid %d)\n", op, name, err,
		 task_pid_nr(current));
	return err;
}

static const struct vn_fmt_ops *vn_find_format(u32 format)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vn_formats); i++)
		if (vn_formats[i]->format == format)
			return vn_formats[i];
	return NULL;
}

static struct vn_dev *vn_find_dev(struct vn_ctx *ctx, struct file *device_file)
{
	struct vn_dev *dev;

	lockdep_assert_held(&ctx->lock);
	list_for_each_entry(dev, &ctx->devices, node)
		if (dev->device_file == device_file)
			return dev;
	return NULL;
}

/*
 * vn_lookup_dev - the attached device behind @device_fd in @ctx, or ERR_PTR.
 * Only the file's identity is needed (the device holds its own reference),
 * so the light fdget() does, which takes no reference in a process whose
 * file table is not shared (INVALIDATE's hot path).
 */
static struct vn_dev *vn_lookup_dev(struct vn_ctx *ctx, int device_fd)
{
	CLASS(fd, f)(device_fd);
	struct vn_dev *dev;

	if (fd_empty(f))
		return ERR_PTR(-EBADF);
	dev = vn_find_dev(ctx, fd_file(f));
	return dev ?: ERR_PTR(-ENOENT);
}

/* Claim @device_file module-wide: a device nests through one file only. */
static int vn_claim_device(struct vn_ctx *ctx, struct file *device_file)
{
	struct vn_dev_entry *e;

	guard(mutex)(&vn_devices_lock);
	list_for_each_entry(e, &vn_devices, node)
		if (e->device_file == device_file)
			return -EBUSY;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->device_file = device_file;
	e->ctx = ctx;
	list_add(&e->node, &vn_devices);
	return 0;
}

static void vn_release_device(struct file *device_file)
{
	struct vn_dev_entry *e;

	guard(mutex)(&vn_devices_lock);
	list_for_each_entry(e, &vn_devices, node) {
		if (e->device_file == device_file) {
			list_del(&e->node);
			kfree(e);
			return;
		}
	}
}

static void vn_dev_free(struct vn_dev *dev)
{
	vn_glue_nest_free(dev);
	vn_release_device(dev->device_file);
	list_del(&dev->node);
	fput(dev->device_file);
	fput(dev->iommufd_file);
	mmdrop(dev->mm);
	kfree(dev);
}

static long vn_get_version(struct vn_ctx *ctx, void *arg)
{
	struct vfio_nest_version *ver = arg;

	if (ver->flags)
		return -EOPNOTSUPP;
	if (ver->__reserved)
		return -EINVAL;
	ver->version = VFIO_NEST_API_VERSION;
	return 0;
}

static long vn_get_info(struct vn_ctx *ctx, void *arg)
{
	struct vfio_nest_info *info = arg;
	const struct vn_fmt_ops *fmt = &vn_fmt_arm_lpae;
	struct file *iommufd_file;
	struct vn_hw hw = {};
	u32 field = 0;
	int ret;

	if (info->flags)
		return vn_refuse("get_info", VFIO_NEST_FIELD_FLAGS,
				 -EOPNOTSUPP);
	ret = vn_glue_get_files(-1, info->iommufd, NULL, &iommufd_file,
				&field);
	if (ret)
		return vn_refuse("get_info", field, ret);

	guard(mutex)(&ctx->lock);
	ret = vn_glue_hw_info(ctx, iommufd_file, info->dev_id, &hw);
	fput(iommufd_file);
	if (ret)
		return vn_refuse("get_info", VFIO_NEST_FIELD_DEV_ID, ret);

	fmt->caps_from_hw(&hw);
	info->out_formats = BIT(fmt->format);
	info->out_granules = hw.caps.granules;
	info->out_ias = hw.caps.ias;
	info->out_oas = hw.caps.oas;
	info->out_asid_bits = hw.caps.asid_bits;
	info->out_caps = 0;
	if (hw.caps.flags & ARM_LPAE_CAP_HA)
		info->out_caps |= VFIO_NEST_CAP_HW_ACCESS;
	if (hw.caps.flags & ARM_LPAE_CAP_HD)
		info->out_caps |= VFIO_NEST_CAP_HW_DIRTY;
	if (hw.caps.flags & ARM_LPAE_CAP_RIL)
		info->out_caps |= VFIO_NEST_CAP_RANGE_INV;
	if (hw.nesting)
		info->out_caps |= VFIO_NEST_CAP_NESTING | VFIO_NEST_CAP_S2_HWPT;
	info->out_host_window = PAGE_SIZE;
	info->out_smmu_idr[0] = hw.idr[0];
	info->out_smmu_idr[1] = hw.idr[1];
	info->out_smmu_idr[2] = hw.idr[3];
	info->out_smmu_idr[3] = hw.idr[5];
	return 0;
}

/* Checks of an attach request that need the IOMMU's capabilities. */
static int vn_check_table(const struct vn_hw *hw, const struct vn_fmt_ops *fmt,
			  struct vfio_nest_attach_table *at,
			  const struct vn_table *table)
{
	u64 ipa_limit = BIT_ULL(hw->caps.oas);
	u64 ipa_size = at->ipa_size ?: ipa_limit;
	u32 field = 0;
	int ret;

	if (at->ipa_size & ~PAGE_MASK) {
		at->out_bad_field = VFIO_NEST_FIELD_IPA_SIZE;
		return -EINVAL;
	}
	if (at->ipa_size > ipa_limit) {
		at->out_bad_field = VFIO_NEST_FIELD_IPA_SIZE;
		return -ERANGE;
	}
	if (at->host_ipa & ~PAGE_MASK) {
		at->out_bad_field = VFIO_NEST_FIELD_HOST_IPA;
		return -EINVAL;
	}
	if (at->host_ipa >= ipa_size || ipa_size - at->host_ipa < PAGE_SIZE) {
		at->out_bad_field = VFIO_NEST_FIELD_HOST_IPA;
		return -ERANGE;
	}
	ret = fmt->validate(hw, table, ipa_size, &field);
	if (ret) {
		at->out_bad_field = field;
		return ret;
	}
	/* A table root inside the host page would be walked as a table. */
	if ((at->ttbr0 & PAGE_MASK) == at->host_ipa) {
		at->out_bad_field = VFIO_NEST_FIELD_TTBR0;
		return -EINVAL;
	}
	if ((at->ttbr1 & PAGE_MASK) == at->host_ipa) {
		at->out_bad_field = VFIO_NEST_FIELD_TTBR1;
		return -EINVAL;
	}
	return 0;
}

/* vn_inv_scopes - issue @n generic entries on @dev, for @table's format. */
static int vn_inv_scopes(struct vn_dev *dev, const struct vn_table *table,
			 const struct vfio_nest_inv_entry *inv, unsigned int n)
{
	struct vn_cmd cmds[2 * VN_MAX_CMDS_PER_ENTRY];
	u32 field, nr = 0;
	unsigned int i;
	int k;

	for (i = 0; i < n; i++) {
		k = dev->fmt->invalidate(&dev->hw, table, dev->vsid, &inv[i],
					 NULL, cmds + nr, &field);
		if (WARN_ON(k < 0))
			return k;
		nr += k;
	}
	return vn_glue_invalidate(dev, cmds, &nr);
}

/*
 * vn_switch_table - install @table on @dev: CD into the idle slot, a new
 * nested STE pointing at it, then drop what the SMMU may have cached of the
 * previous CD and of both ASIDs. The new ASID is also dropped before the
 * STE goes in: guests reuse ASIDs, and entries a previous table left under
 * it must not serve a single DMA of the new one.
 */
static int vn_switch_table(struct vn_dev *dev, struct vn_table *table)
{
	struct vfio_nest_inv_entry inv[2] = {
		{ .scope = VFIO_NEST_INV_SCOPE_ASID, .asid = table->lpae.asid,
		  .flags = VFIO_NEST_INV_CONFIG },
		{ .scope = VFIO_NEST_INV_SCOPE_ASID,
		  .asid = dev->table.lpae.asid },
	};
	unsigned int slot = dev->nested_hwpt_id ? !dev->cd_slot : 0;
	__le64 cd[VN_CD_BYTES / sizeof(__le64)];
	unsigned int n, tries;
	__le64 ste[2];
	int ret;

	dev->fmt->prepare(&dev->hw, table);
	dev->fmt->encode_cd(&dev->hw, table, cd);
	ret = vn_glue_write_cd(dev, slot, cd);
	if (ret)
		return ret;
	ret = vn_inv_scopes(dev, table, inv, 1);
	if (ret)
		return ret;
	dev->fmt->encode_ste(dev->host_ipa + slot * VN_CD_BYTES, ste);
	ret = vn_glue_install(dev, ste);
	if (ret)
		return ret;
	dev->cd_slot = slot;
	n = dev->table.format ? 2 : 1;
	dev->table = *table;
	/*
	 * The new table is in force: report success only once the old ASID
	 * (and any reuse of the new one) is gone from the TLBs. A transient
	 * failure (iommufd allocates per call) is retried.
	 */
	for (tries = 0; tries < VN_SWITCH_INV_TRIES; tries++) {
		ret = vn_inv_scopes(dev, table, inv, n);
		if (ret != -ENOMEM)
			break;
	}
	return ret;
}

/*
 * vn_reattach - @at for a device already attached through @ctx: a re-attach
 * changes the table, never the plumbing (EBUSY naming the field otherwise).
 */
static int vn_reattach(struct vn_dev *dev, struct vfio_nest_attach_table *at,
		       const struct vn_fmt_ops *fmt,
		       struct file *iommufd_file, struct vn_table *table,
		       u32 *field)
{
	int ret;

	*field = dev->iommufd_file != iommufd_file ? VFIO_NEST_FIELD_IOMMUFD :
		 dev->dev_id != at->dev_id ? VFIO_NEST_FIELD_DEV_ID :
		 dev->ioas_id != at->s2_pt_id ? VFIO_NEST_FIELD_S2_PT_ID :
		 (dev->s2_owned ? 0 : dev->s2_hwpt_id) != at->s2_hwpt_id ?
			VFIO_NEST_FIELD_S2_HWPT_ID :
		 dev->host_ipa != at->host_ipa ? VFIO_NEST_FIELD_HOST_IPA :
		 dev->fmt != fmt ? VFIO_NEST_FIELD_FORMAT :
			VFIO_NEST_FIELD_NONE;
	if (*field)
		return -EBUSY;
	ret = vn_check_table(&dev->hw, fmt, at, table);
	if (ret) {
		*field = at->out_bad_field;
		return ret;
	}
	return vn_switch_table(dev, table);
}

/*
 * vn_dev_probe - a new struct vn_dev for @at: the SMMU can nest, the IOAS
 * exists, the table fits the SMMU, and the device is ours alone.
 */
static struct vn_dev *vn_dev_probe(struct vn_ctx *ctx,
				   struct vfio_nest_attach_table *at,
				   const struct vn_fmt_ops *fmt,
				   struct file *device_file,
				   struct file *iommufd_file,
				   struct vn_table *table, u32 *field)
{
	struct vn_dev *dev;
	int ret;

	ret = vn_glue_check_binding(device_file, iommufd_file, at->dev_id,
				    field);
	if (ret)
		return ERR_PTR(ret);
	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	ret = vn_glue_hw_info(ctx, iommufd_file, at->dev_id, &dev->hw);
	if (ret) {
		*field = VFIO_NEST_FIELD_DEV_ID;
		goto err_free;
	}
	fmt->caps_from_hw(&dev->hw);
	ret = -EOPNOTSUPP;
	if (!dev->hw.nesting)
		goto err_free;
	ret = vn_glue_check_ioas(ctx, iommufd_file, at->s2_pt_id);
	if (ret) {
		*field = VFIO_NEST_FIELD_S2_PT_ID;
		goto err_free;
	}
	ret = vn_check_table(&dev->hw, fmt, at, table);
	if (ret) {
		*field = at->out_bad_field;
		goto err_free;
	}
	ret = vn_claim_device(ctx, device_file);
	if (ret) {
		*field = VFIO_NEST_FIELD_DEVICE_FD;
		goto err_free;
	}
	return dev;

err_free:
	kfree(dev);
	return ERR_PTR(ret);
}

/*
 * vn_dev_attach - first attach of a device: probe it, create the nesting
 * objects and install @table. The new struct vn_dev takes the file
 * references, or drops them on failure.
 */
static int vn_dev_attach(struct vn_ctx *ctx, struct vfio_nest_attach_table *at,
			 const struct vn_fmt_ops *fmt, struct file *device_file,
			 struct file *iommufd_file, struct vn_table *table,
			 u32 *field)
{
	struct vn_dev *dev;
	int ret;

	dev = vn_dev_probe(ctx, at, fmt, device_file, iommufd_file, table,
			   field);
	if (IS_ERR(dev)) {
		fput(device_file);
		fput(iommufd_file);
		return PTR_ERR(dev);
	}
	dev->ctx = ctx;
	dev->device_file = device_file;
	dev->iommufd_file = iommufd_file;
	dev->mm = current->mm;
	mmgrab(dev->mm);
	dev->dev_id = at->dev_id;
	dev->ioas_id = at->s2_pt_id;
	dev->s2_hwpt_id = at->s2_hwpt_id;
	dev->host_ipa = at->host_ipa;
	/* The vSID only has to be unique within the vIOMMU: one device each. */
	dev->vsid = 1;
	dev->fmt = fmt;
	list_add(&dev->node, &ctx->devices);

	ret = vn_glue_nest_alloc(dev, field);
	if (!ret) {
		ret = vn_switch_table(dev, table);
		if (!ret)
			return 0;
		vn_glue_detach(dev, true);
	}
	vn_dev_free(dev);
	return ret;
}

static long vn_attach_table(struct vn_ctx *ctx, void *arg)
{
	struct vfio_nest_attach_table *at = arg;
	struct file *device_file, *iommufd_file;
	const struct vn_fmt_ops *fmt;
	struct vn_table table;
	struct vn_dev *dev;
	u32 field = VFIO_NEST_FIELD_NONE;
	int ret;

	at->out_bad_field = VFIO_NEST_FIELD_NONE;
	if (at->flags) {
		at->out_bad_field = VFIO_NEST_FIELD_FLAGS;
		return vn_refuse("attach_table", at->out_bad_field,
				 -EOPNOTSUPP);
	}
	fmt = vn_find_format(at->format);
	if (!fmt) {
		at->out_bad_field = VFIO_NEST_FIELD_FORMAT;
		return vn_refuse("attach_table", at->out_bad_field,
				 -EPROTONOSUPPORT);
	}
	table.format = at->format;
	table.lpae = (struct arm_lpae_cfg) {
		.tcr = at->tcr, .ttbr0 = at->ttbr0, .ttbr1 = at->ttbr1,
		.mair = at->mair, .asid = at->asid,
	};

	ret = vn_glue_get_files(at->device_fd, at->iommufd, &device_file,
				&iommufd_file, &field);
	if (ret) {
		at->out_bad_field = field;
		return vn_refuse("attach_table", field, ret);
	}

	mutex_lock(&ctx->lock);
	dev = vn_find_dev(ctx, device_file);
	if (dev) {
		ret = vn_reattach(dev, at, fmt, iommufd_file, &table, &field);
		fput(device_file);
		fput(iommufd_file);
	} else {
		ret = vn_dev_attach(ctx, at, fmt, device_file, iommufd_file,
				    &table, &field);
	}
	mutex_unlock(&ctx->lock);
	if (ret) {
		at->out_bad_field = field;
		vn_refuse("attach_table", field, ret);
	}
	return ret;
}

static long vn_detach_table(struct vn_ctx *ctx, void *arg)
{
	struct vfio_nest_detach_table *dt = arg;
	struct vn_dev *dev;
	int ret;

	if (dt->flags & ~VFIO_NEST_DETACH_ABORT)
		return vn_refuse("detach_table", VFIO_NEST_FIELD_FLAGS,
				 -EOPNOTSUPP);
	if (dt->__reserved)
		return vn_refuse("detach_table", VFIO_NEST_FIELD_RESERVED,
				 -EINVAL);

	guard(mutex)(&ctx->lock);
	dev = vn_lookup_dev(ctx, dt->device_fd);
	if (IS_ERR(dev))
		return vn_refuse("detach_table", VFIO_NEST_FIELD_DEVICE_FD,
				 PTR_ERR(dev));
	if (!vn_glue_can_use_mm(dev))
		return vn_refuse("detach_table", VFIO_NEST_FIELD_NONE, -EPERM);
	ret = vn_glue_detach(dev, dt->flags & VFIO_NEST_DETACH_ABORT);
	if (ret)
		return ret;
	vn_dev_free(dev);
	return 0;
}

/*
 * vn_submit_chunk - issue the commands of entries [@first, @end) held in
 * ctx->cmds; *@handled becomes the number of entries fully issued.
 */
static int vn_submit_chunk(struct vn_ctx *ctx, struct vn_dev *dev, u32 first,
			   u32 end, u32 nr, u32 *handled)
{
	u32 done = nr, k;
	int ret;

	ret = nr ? vn_glue_invalidate(dev, ctx->cmds, &done) : 0;
	if (!ret) {
		*handled = end;
		return 0;
	}
	for (k = 0; first + k < end && ctx->cmd_entry_end[k] <= done; k++)
		;
	*handled = first + k;
	return ret;
}

/*
 * vn_fetch_entry - entry @i of @inv. Entries of the size this module knows
 * are copied VN_INV_FETCH at a time (one user access per block, not per
 * entry); longer ones one by one, with their tail checked for zeroes.
 */
static const struct vfio_nest_inv_entry *
vn_fetch_entry(struct vn_ctx *ctx, const struct vfio_nest_invalidate *inv,
	       void __user *uptr, u32 i, int *err)
{
	unsigned long left;
	u32 n;

	*err = 0;
	if (inv->entry_len != sizeof(*ctx->entries)) {
		*err = copy_struct_from_user(ctx->entries,
					     sizeof(*ctx->entries),
					     uptr + (u64)i * inv->entry_len,
					     inv->entry_len);
		return ctx->entries;
	}
	if (i % VN_INV_FETCH == 0) {
		n = min_t(u32, inv->entry_num - i, VN_INV_FETCH);
		left = copy_from_user(ctx->entries,
				      uptr + (u64)i * inv->entry_len,
				      n * sizeof(*ctx->entries));
		/* Entries before the fault still count as handled. */
		ctx->entries_valid = (n * sizeof(*ctx->entries) - left) /
				     sizeof(*ctx->entries);
	}
	if (i % VN_INV_FETCH >= ctx->entries_valid)
		*err = -EFAULT;
	return &ctx->entries[i % VN_INV_FETCH];
}

/*
 * vn_inv_mergeable - can @e extend the already validated VA range @prev, of
 * which @asked pages were asked for? Same ASID, flags and leaf size, at or
 * after @prev's end, and every field of @e that is not a copy of @prev's
 * well formed. Guests flush unmapped runs page by page, or pages scattered
 * over a range: one range command then covers them, and the pages between
 * (over-invalidation is always allowed) are bounded: the range never
 * exceeds twice the pages asked for. Returns the range's new page count,
 * 0 if @e does not merge.
 */
static u64 vn_inv_mergeable(const struct vfio_nest_inv_entry *prev, u64 asked,
			    const struct vfio_nest_inv_entry *e)
{
	unsigned int shift = prev->granule_shift;
	u64 end, span, size;

	/* @prev passed the format's checks: 12 <= shift < 64 */
	if (prev->scope != VFIO_NEST_INV_SCOPE_VA ||
	    e->scope != VFIO_NEST_INV_SCOPE_VA || e->asid != prev->asid ||
	    e->flags != prev->flags || e->granule_shift != shift ||
	    e->__reserved || !e->nr_pages || shift < 12 || shift >= 64 ||
	    e->iova & ((1ULL << shift) - 1) || e->nr_pages > (U64_MAX >> shift))
		return 0;
	end = prev->iova + (prev->nr_pages << shift);
	if (!end || e->iova < end)
		return 0;
	/* Each term is below 2^52: no overflow */
	span = prev->nr_pages + ((e->iova - end) >> shift) + e->nr_pages;
	if (span > 2 * (asked + e->nr_pages) || span > (U64_MAX >> shift))
		return 0;
	size = span << shift;
	if (size - 1 > U64_MAX - prev->iova)
		return 0;
	/* Both halves of the VA space may use different granules. */
	return (prev->iova ^ (prev->iova + size - 1)) >> 63 ? 0 : span;
}

/*
 * vn_inv_buffers - allocate INVALIDATE's buffers on first use, all or none:
 * a partial failure must not leave a NULL or leaked buffer for the next call.
 */
static int vn_inv_buffers(struct vn_ctx *ctx)
{
	struct vfio_nest_inv_entry *entries;
	struct vn_cmd *cmds;
	u32 *ends;

	if (ctx->cmds)
		return 0;
	entries = kmalloc_array(VN_INV_FETCH, sizeof(*entries),
				GFP_KERNEL_ACCOUNT);
	cmds = kmalloc_array(VN_INV_CHUNK, sizeof(*cmds), GFP_KERNEL_ACCOUNT);
	ends = kmalloc_array(VN_INV_CHUNK, sizeof(*ends), GFP_KERNEL_ACCOUNT);
	if (!entries || !cmds || !ends) {
		kfree(entries);
		kfree(cmds);
		kfree(ends);
		return -ENOMEM;
	}
	ctx->entries = entries;
	ctx->cmds = cmds;
	ctx->cmd_entry_end = ends;
	return 0;
}

/**
 * struct vn_inv_batch - INVALIDATE's entries on their way to commands
 * @ctx: the context (its cmds and cmd_entry_end buffers)
 * @dev: the device they go to
 * @first: index of the chunk's first entry
 * @nr: commands in ctx->cmds
 * @group_first: first entry of the merged group being built
 * @group_start: the group's first command
 * @grouped: @merged can still grow
 * @grown: @merged grew since its commands were encoded
 * @merged: the group's range, as one entry
 * @asked: pages the group's entries asked for (@merged may cover more)
 * @cache: the format's one-page command template
 */
struct vn_inv_batch {
	struct vn_ctx *ctx;
	struct vn_dev *dev;
	u32 first, nr, group_first, group_start;
	bool grouped, grown;
	struct vfio_nest_inv_entry merged;
	u64 asked;
	struct vn_inv_cache cache;
};

/*
 * Could the chunk not take one more entry? Its commands may fill ctx->cmds
 * (an open group is encoded when it closes, and may then take up to
 * VN_MAX_CMDS_PER_ENTRY from its start); merged entries add no command but
 * each needs its ctx->cmd_entry_end slot.
 */
static bool vn_batch_full(const struct vn_inv_batch *b, u32 i)
{
	u32 nr = b->grouped ? max(b->nr, b->group_start + VN_MAX_CMDS_PER_ENTRY) :
			      b->nr;

	return nr > VN_INV_CHUNK - VN_MAX_CMDS_PER_ENTRY ||
	       i - b->first >= VN_INV_CHUNK;
}

/*
 * vn_batch_close - the group of entries before @end is complete: encode its
 * range once (not at every entry that merged into it), and each of its
 * entries ends where the group's commands end.
 */
static void vn_batch_close(struct vn_inv_batch *b, u32 end)
{
	struct vn_dev *dev = b->dev;
	struct vn_cmd *cmds = b->ctx->cmds + b->group_start;
	u32 field, k;
	int n;

	if (b->grown) {
		n = dev->fmt->invalidate(&dev->hw, &dev->table, dev->vsid,
					 &b->merged, &b->cache, cmds, &field);
		if (WARN_ON_ONCE(n <= 0)) {
			/* Not reached (every part was checked): widen */
			struct vfio_nest_inv_entry all = {
				.scope = VFIO_NEST_INV_SCOPE_ASID,
				.asid = b->merged.asid,
			};

			n = dev->fmt->invalidate(&dev->hw, &dev->table,
						 dev->vsid, &all, NULL, cmds,
						 &field);
		}
		b->nr = b->group_start + max(n, 0);
		b->grown = false;
	}
	for (k = b->group_first; k < end; k++)
		b->ctx->cmd_entry_end[k - b->first] = b->nr;
}

/* vn_batch_flush - issue the chunk of entries before @end; start another. */
static int vn_batch_flush(struct vn_inv_batch *b, u32 end, u32 *handled)
{
	int ret;

	vn_batch_close(b, end);
	ret = vn_submit_chunk(b->ctx, b->dev, b->first, end, b->nr, handled);
	b->first = end;
	b->group_first = end;
	b->nr = 0;
	b->grouped = false;
	return ret;
}

/* vn_batch_merge - grow the group by entry @e if it extends it. */
static bool vn_batch_merge(struct vn_inv_batch *b,
			   const struct vfio_nest_inv_entry *e)
{
	u64 span = b->grouped ? vn_inv_mergeable(&b->merged, b->asked, e) : 0;

	if (!span)
		return false;
	b->merged.nr_pages = span;
	b->asked += e->nr_pages;
	b->grown = true;
	return true;
}

/* vn_batch_add - entry @i's commands: merged into the group, or its own. */
static int vn_batch_add(struct vn_inv_batch *b, u32 i,
			const struct vfio_nest_inv_entry *e, u32 *field)
{
	struct vn_dev *dev = b->dev;
	int n;

	if (vn_batch_merge(b, e))
		return 0;
	vn_batch_close(b, i);
	b->group_first = i;
	b->group_start = b->nr;
	n = dev->fmt->invalidate(&dev->hw, &dev->table, dev->vsid, e,
				 &b->cache, b->ctx->cmds + b->nr, field);
	b->merged = *e;
	b->asked = e->nr_pages;
	b->grouped = n > 0;
	if (n < 0)
		return n;
	b->nr += n;
	return 0;
}

/* vn_inv_check_args - the INVALIDATE header; *@field names a bad one. */
static int vn_inv_check_args(const struct vfio_nest_invalidate *inv,
			     u32 *field)
{
	if (inv->flags) {
		*field = VFIO_NEST_FIELD_FLAGS;
		return -EOPNOTSUPP;
	}
	if (inv->__reserved || inv->__reserved2) {
		*field = VFIO_NEST_FIELD_RESERVED;
		return -EINVAL;
	}
	if (inv->entry_len < sizeof(struct vfio_nest_inv_entry) ||
	    inv->entry_len > VN_INV_ENTRY_LEN_MAX) {
		*field = VFIO_NEST_FIELD_ENTRY_LEN;
		return -EINVAL;
	}
	if (inv->entry_num > VFIO_NEST_INV_MAX_ENTRIES) {
		*field = VFIO_NEST_FIELD_ENTRY_NUM;
		return -EINVAL;
	}
	return 0;
}

/*
 * Entries become commands in ctx->cmds, issued whenever the chunk is full
 * and at the end; entries before a malformed one are still issued, as
 * IOMMU_HWPT_INVALIDATE does, and entry_num says how many were handled.
 */
static long vn_invalidate(struct vn_ctx *ctx, void *arg)
{
	struct vfio_nest_invalidate *inv = arg;
	void __user *uptr = u64_to_user_ptr(inv->entries_uptr);
	const struct vfio_nest_inv_entry *entry;
	struct vn_inv_batch b = { .ctx = ctx };
	u32 i, handled = 0, field = VFIO_NEST_FIELD_NONE;
	int ret, err;

	inv->out_bad_field = VFIO_NEST_FIELD_NONE;
	err = vn_inv_check_args(inv, &field);
	if (err) {
		inv->entry_num = 0;
		inv->out_bad_field = field;
		return vn_refuse("invalidate", field, err);
	}

	guard(mutex)(&ctx->lock);
	b.dev = vn_lookup_dev(ctx, inv->device_fd);
	if (IS_ERR(b.dev)) {
		inv->entry_num = 0;
		inv->out_bad_field = VFIO_NEST_FIELD_DEVICE_FD;
		return vn_refuse("invalidate", VFIO_NEST_FIELD_DEVICE_FD,
				 PTR_ERR(b.dev));
	}
	ret = inv->entry_num ? vn_inv_buffers(ctx) : 0;
	if (ret || !inv->entry_num) {
		inv->entry_num = 0;
		return ret;
	}

	for (i = 0; i < inv->entry_num; i++) {
		if (vn_batch_full(&b, i)) {
			ret = vn_batch_flush(&b, i, &handled);
			if (ret)
				goto out;
		}
		entry = vn_fetch_entry(ctx, inv, uptr, i, &err);
		if (err) {
			field = err == -E2BIG ? VFIO_NEST_FIELD_ENTRY_LEN :
						VFIO_NEST_FIELD_NONE;
			break;
		}
		err = vn_batch_add(&b, i, entry, &field);
		if (err)
			break;
	}
	ret = vn_batch_flush(&b, i, &handled);
	if (!ret)
		ret = err;
	else
		field = VFIO_NEST_FIELD_NONE;
out:
	inv->entry_num = handled;
	if (ret) {
		inv->out_bad_field = field;
		vn_refuse("invalidate", field, ret);
	}
	return ret;
}

static ssize_t vn_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct vn_ctx *ctx = file->private_data;
	unsigned int max = min_t(size_t, count / sizeof(struct vfio_nest_fault),
				 64);
	struct vfio_nest_fault *faults;
	struct vn_dev *dev;
	unsigned int nr = 0;
	ssize_t ret = 0;
	int n;

	if (!max)
		return -EINVAL;
	/* Records taken off the queues cannot go back: fail before that. */
	if (clear_user(buf, max * sizeof(*faults)))
		return -EFAULT;
	faults = kcalloc(max, sizeof(*faults), GFP_KERNEL);
	if (!faults)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	list_for_each_entry(dev, &ctx->devices, node) {
		if (nr == max)
			break;
		n = vn_glue_read_faults(dev, faults + nr, max - nr);
		if (n < 0) {
			ret = n;
			break;
		}
		nr += n;
	}
	mutex_unlock(&ctx->lock);

	if (nr) {
		ret = nr * sizeof(*faults);
		if (copy_to_user(buf, faults, ret))
			ret = -EFAULT;
	} else if (!ret) {
		ret = -EAGAIN;
	}
	kfree(faults);
	return ret;
}

static __poll_t vn_poll(struct file *file, struct poll_table_struct *wait)
{
	struct vn_ctx *ctx = file->private_data;
	struct vn_dev *dev;
	__poll_t mask = 0;

	poll_wait(file, &ctx->wq, wait);
	guard(mutex)(&ctx->lock);
	list_for_each_entry(dev, &ctx->devices, node)
		mask |= vn_glue_events_pending(dev) & (EPOLLIN | EPOLLRDNORM);
	return mask;
}

static int vn_open(struct inode *inode, struct file *file)
{
	struct vn_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->devices);
	init_waitqueue_head(&ctx->wq);
	file->private_data = ctx;
	return stream_open(inode, file);
}

/*
 * vn_ctx_teardown - block the DMA of every device still attached (its table
 * config is no longer managed by anyone) and free our objects; only the
 * device of @only when it is not NULL. Run in the context's mm, where the
 * VMM's iommufd can be driven; where it cannot (the mm is gone), the VMM's
 * iommufd tears everything down itself once its last file reference (ours
 * included) goes.
 */
static void vn_ctx_teardown(struct vn_ctx *ctx, struct file *only)
{
	struct vn_dev *dev, *tmp;

	guard(mutex)(&ctx->lock);
	list_for_each_entry_safe(dev, tmp, &ctx->devices, node) {
		if (only && dev->device_file != only)
			continue;
		if (vn_glue_can_use_mm(dev))
			vn_glue_detach(dev, true);
		vn_dev_free(dev);
	}
	if (!only)
		vn_glue_scratch_unmap(ctx);
}

struct vn_remote_teardown {
	struct work_struct work;
	struct vn_ctx *ctx;
	struct file *only;
	struct mm_struct *mm;
};

static void vn_remote_teardown_fn(struct work_struct *work)
{
	struct vn_remote_teardown *rt =
		container_of(work, struct vn_remote_teardown, work);

	if (rt->mm)
		kthread_use_mm(rt->mm);
	vn_ctx_teardown(rt->ctx, rt->only);
	if (rt->mm)
		kthread_unuse_mm(rt->mm);
}

/*
 * vn_teardown_remote - vn_ctx_teardown() from a worker that borrows the
 * owner's mm while it lives; the caller waits. File references dropped
 * there are released by the kernel's delayed fput, not at the caller's
 * return to user space.
 */
static void vn_teardown_remote(struct vn_ctx *ctx, struct file *only)
{
	struct mm_struct *mm = ctx->scratch_mm;
	struct vn_remote_teardown rt = { .ctx = ctx, .only = only };

	if (mm && mmget_not_zero(mm))
		rt.mm = mm;
	INIT_WORK_ONSTACK(&rt.work, vn_remote_teardown_fn);
	queue_work(vn_wq, &rt.work);
	flush_work(&rt.work);
	destroy_work_on_stack(&rt.work);
	if (rt.mm)
		mmput(rt.mm);
}

static void vn_ctx_free(struct kref *ref)
{
	struct vn_ctx *ctx = container_of(ref, struct vn_ctx, ref);

	vn_glue_scratch_free(ctx);
	kfree(ctx->entries);
	kfree(ctx->cmds);
	kfree(ctx->cmd_entry_end);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

/*
 * The last close can come from anywhere: another process the file was
 * passed to or inherited by, the owner after exec, a kernel thread. Outside
 * the owner's live mm the teardown runs remotely, so close() returns with
 * the DMA blocked either way.
 */
static int vn_release(struct inode *inode, struct file *file)
{
	struct vn_ctx *ctx = file->private_data;
	struct mm_struct *mm = ctx->scratch_mm;

	if (mm && (mm != current->mm || (current->flags & PF_EXITING)))
		vn_teardown_remote(ctx, NULL);
	else
		vn_ctx_teardown(ctx, NULL);
	kref_put(&ctx->ref, vn_ctx_free);
	return 0;
}

static int vn_match_devt(struct device *child, void *data)
{
	return child->devt && child->devt == *(dev_t *)data;
}

/*
 * vn_unbind_notify - a device loses its driver. Unbinding a VFIO device
 * waits until each file of it is closed, and an attached device's file is
 * held here: let go of it as a close of /dev/vfio-nest would, its DMA
 * blocked first. The VFIO device is a child of the bus device, with the
 * cdev's number.
 */
static int vn_unbind_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct device *busdev = data;
	struct file *file = NULL, *done = NULL;
	struct vn_dev_entry *e;
	struct vn_ctx *ctx;
	dev_t devt;

	if (action != BUS_NOTIFY_UNBIND_DRIVER)
		return NOTIFY_DONE;
	do {
		ctx = NULL;
		scoped_guard(mutex, &vn_devices_lock) {
			list_for_each_entry(e, &vn_devices, node) {
				devt = file_inode(e->device_file)->i_rdev;
				if (e->device_file == done ||
				    !device_for_each_child(busdev, &devt,
							   vn_match_devt))
					continue;
				ctx = e->ctx;
				file = e->device_file;
				kref_get(&ctx->ref);
				break;
			}
		}
		if (ctx) {
			dev_info(busdev, "unbound while nested: guest table detached, DMA blocked\n");
			vn_teardown_remote(ctx, file);
			kref_put(&ctx->ref, vn_ctx_free);
			done = file;
		}
	} while (ctx);
	return NOTIFY_OK;
}

static struct notifier_block vn_unbind_nb = {
	.notifier_call = vn_unbind_notify,
};

union vn_ucmd_buffer {
	struct vfio_nest_version version;
	struct vfio_nest_info info;
	struct vfio_nest_attach_table attach;
	struct vfio_nest_detach_table detach;
	struct vfio_nest_invalidate invalidate;
};

struct vn_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	long (*execute)(struct vn_ctx *ctx, void *arg);
};

/* In enum order: vn_ioctl() indexes by _IOC_NR and checks the number. */
#define IOCTL_OP(_ioctl, _fn, _struct, _last)                              \
	{                                                                  \
		.size = sizeof(_struct) +                                  \
			BUILD_BUG_ON_ZERO(sizeof(union vn_ucmd_buffer) <   \
					  sizeof(_struct)),                \
		.min_size = offsetofend(_struct, _last),                   \
		.ioctl_num = _ioctl,                                       \
		.execute = _fn,                                            \
	}

static const struct vn_ioctl_op vn_ioctl_ops[] = {
	IOCTL_OP(VFIO_NEST_GET_VERSION, vn_get_version,
		 struct vfio_nest_version, __reserved),
	IOCTL_OP(VFIO_NEST_GET_INFO, vn_get_info, struct vfio_nest_info,
		 out_smmu_idr),
	IOCTL_OP(VFIO_NEST_ATTACH_TABLE, vn_attach_table,
		 struct vfio_nest_attach_table, s2_hwpt_id),
	IOCTL_OP(VFIO_NEST_DETACH_TABLE, vn_detach_table,
		 struct vfio_nest_detach_table, __reserved),
	IOCTL_OP(VFIO_NEST_INVALIDATE, vn_invalidate,
		 struct vfio_nest_invalidate, __reserved2),
};

static long vn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vn_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct vn_ioctl_op *op;
	union vn_ucmd_buffer buf;
	unsigned int nr;
	u32 usize;
	long ret;

	nr = _IOC_NR(cmd);
	if (nr - VFIO_NEST_CMD_BASE >= ARRAY_SIZE(vn_ioctl_ops))
		return -ENOTTY;
	op = &vn_ioctl_ops[nr - VFIO_NEST_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;
	/*
	 * Outputs go back to the argument: a read-only one fails here, before
	 * any change takes effect, not after (the bytes written are those
	 * just read).
	 */
	if (copy_to_user(uarg, &buf, min_t(size_t, op->size, usize)))
		return -EFAULT;
	ret = op->execute(ctx, &buf);
	/* Outputs (results, the refused field, entries done) go back always. */
	if (copy_to_user(uarg, &buf, min_t(size_t, op->size, usize)))
		return ret ?: -EFAULT;
	return ret;
}

static const struct file_operations vn_fops = {
	.owner = THIS_MODULE,
	.open = vn_open,
	.release = vn_release,
	.read = vn_read,
	.poll = vn_poll,
	.unlocked_ioctl = vn_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vn_misc = {
	.minor = VFIO_NEST_MINOR,
	.name = "vfio-nest",
	.fops = &vn_fops,
	.mode = 0600,
};

static int __init vn_init(void)
{
	int ret;

	vn_wq = alloc_workqueue("vfio_nest", WQ_UNBOUND, 0);
	if (!vn_wq)
		return -ENOMEM;
	ret = bus_register_notifier(&pci_bus_type, &vn_unbind_nb);
	if (ret)
		goto err_wq;
	ret = misc_register(&vn_misc);
	if (ret) {
		pr_err("cannot register /dev/vfio-nest (misc minor %d): %d\n",
		       VFIO_NEST_MINOR, ret);
		goto err_notifier;
	}
	pr_info("uAPI version %d ready on /dev/vfio-nest\n",
		VFIO_NEST_API_VERSION);
	return 0;

err_notifier:
	bus_unregister_notifier(&pci_bus_type, &vn_unbind_nb);
err_wq:
	destroy_workqueue(vn_wq);
	return ret;
}

static void __exit vn_exit(void)
{
	misc_deregister(&vn_misc);
	bus_unregister_notifier(&pci_bus_type, &vn_unbind_nb);
	destroy_workqueue(vn_wq);
}

module_init(vn_init);
module_exit(vn_exit);
MODULE_DESCRIPTION("Nested stage-1 translation and invalidation passthrough for VFIO devices");
MODULE_VERSION(IOMMU_NEST_VERSION);
MODULE_AUTHOR(IOMMU_NEST_AUTHOR);
MODULE_LICENSE("GPL");
/* Opening /dev/vfio-nest loads the module (kmod static-nodes, devtmpfs). */
MODULE_ALIAS_MISCDEV(VFIO_NEST_MINOR);
MODULE_ALIAS("devname:vfio-nest");
