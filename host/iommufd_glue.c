// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-nest: everything that talks to iommufd and VFIO, in one place.
 *
 * Linux 7.x exports no in-kernel API that creates a vIOMMU, a vDEVICE, a
 * nested HWPT or a vEVENTQ: they exist only behind the iommufd uAPI, and
 * arm-smmu-v3 copies the vSTE from user memory. So this file issues those
 * ioctls itself, in the calling VMM's process context, on the iommufd and
 * VFIO device files the VMM passed in, with their arguments in a small
 * anonymous mapping of the caller's mm (vm_mmap). Every object created this
 * way belongs to the VMM's iommufd and is freed by iommufd's own teardown
 * if the VMM exits first, which is what makes close/kill safe: the module
 * never owns memory the device reads. When a kernel API appears, this file
 * is the one to replace (docs/host-design.md).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommufd.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <uapi/linux/iommufd.h>

#include "nest.h"

/* Scratch for ioctl arguments and command batches (fits VN_CMD_CHUNK). */
#define VN_SCRATCH_LEN		(SZ_16K + PAGE_SIZE)
#define VN_CMD_CHUNK		(SZ_16K / sizeof(struct vn_cmd))
static_assert(VN_CMD_CHUNK >= VN_INV_CHUNK);
#define VN_VEVENTQ_DEPTH	64
/* IOMMU_DESTROY of a busy object: tries, and the wait between them. */
#define VN_DESTROY_TRIES	20
#define VN_DESTROY_WAIT_MS	10

struct vn_raw_event {
	struct iommufd_vevent_header hdr;
	struct iommu_vevent_arm_smmuv3 evt;
};

/*
 * vn_scratch - a user buffer of at least @len bytes in the context's mm, in
 * *@u. A context belongs to the mm that first drives iommufd through it (as
 * a KVM VM belongs to its creator's mm): the buffer is mapped there once
 * and used from there only, so no mapping is ever left behind in another
 * mm. A caller in any other mm gets EPERM. The error travels apart from
 * the pointer: ERR_PTR() is a kernel pointer, not __user.
 */
static int vn_scratch(struct vn_ctx *ctx, size_t len, void __user **u)
{
	unsigned long uva;

	if (!current->mm || (current->flags & PF_EXITING))
		return -ESRCH;
	if (WARN_ON(len > VN_SCRATCH_LEN))
		return -EINVAL;
	if (ctx->scratch_mm && ctx->scratch_mm != current->mm)
		return -EPERM;
	if (!ctx->scratch_uva) {
		uva = vm_mmap(NULL, 0, VN_SCRATCH_LEN, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, 0);
		if (IS_ERR_VALUE(uva))
			return (int)uva;
		if (!ctx->scratch_mm) {
			mmgrab(current->mm);
			ctx->scratch_mm = current->mm;
		}
		ctx->scratch_uva = uva;
		ctx->scratch_len = VN_SCRATCH_LEN;
	}
	*u = (void __user *)ctx->scratch_uva;
	return 0;
}

/*
 * vn_glue_scratch_unmap - unmap the scratch buffer, from its own mm only (a
 * dying mm takes it along). The context stays bound to that mm.
 */
void vn_glue_scratch_unmap(struct vn_ctx *ctx)
{
	if (ctx->scratch_uva && ctx->scratch_mm == current->mm &&
	    !(current->flags & PF_EXITING))
		vm_munmap(ctx->scratch_uva, ctx->scratch_len);
	ctx->scratch_uva = 0;
	ctx->scratch_len = 0;
}

void vn_glue_scratch_free(struct vn_ctx *ctx)
{
	vn_glue_scratch_unmap(ctx);
	if (ctx->scratch_mm)
		mmdrop(ctx->scratch_mm);
	ctx->scratch_mm = NULL;
}

/*
 * vn_ioctl - issue @cmd on @file with @arg (@len bytes) as the VMM would.
 * @extra/@extra_len: a payload placed right after @arg in the scratch
 * buffer; *@extra_uptr receives its user address before the call, so the
 * caller patches it into @arg first (it is copied after the patch).
 */
static int vn_ioctl_extra(struct vn_ctx *ctx, struct file *file,
			  unsigned int cmd, void *arg, size_t len,
			  u64 *extra_uptr, void *extra, size_t extra_len,
			  bool copy_back_extra)
{
	void __user *u, *ue;
	long ret;

	ret = vn_scratch(ctx, len + extra_len, &u);
	if (ret)
		return ret;
	if (!file->f_op->unlocked_ioctl)
		return -ENOTTY;
	ue = u + ALIGN(len, 8);
	if (extra_len) {
		*extra_uptr = (u64)(uintptr_t)ue;
		if (extra && copy_to_user(ue, extra, extra_len))
			return -EFAULT;
	}
	if (copy_to_user(u, arg, len))
		return -EFAULT;
	ret = file->f_op->unlocked_ioctl(file, cmd, (unsigned long)u);
	if (copy_from_user(arg, u, len))
		return ret ?: -EFAULT;
	if (!ret && copy_back_extra && copy_from_user(extra, ue, extra_len))
		return -EFAULT;
	return ret;
}

static int vn_ioctl(struct vn_ctx *ctx, struct file *file, unsigned int cmd,
		    void *arg, size_t len)
{
	return vn_ioctl_extra(ctx, file, cmd, arg, len, NULL, NULL, 0, false);
}

/*
 * vn_destroy - IOMMU_DESTROY of object *@id. EBUSY is retried for a while:
 * a VMM thread that reached the vEVENTQ through its fd slot before we took
 * it (poll, read) holds the file until it returns to user space, and the
 * objects under the queue cannot go before it does.
 */
static int vn_destroy(struct vn_dev *dev, u32 *id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = *id };
	int ret, tries = 0;

	if (!*id)
		return 0;
	do {
		ret = vn_ioctl(dev->ctx, dev->iommufd_file, IOMMU_DESTROY,
			       &cmd, sizeof(cmd));
		if (ret != -EBUSY || ++tries > VN_DESTROY_TRIES)
			break;
		msleep(VN_DESTROY_WAIT_MS);
	} while (true);
	if (ret)
		pr_warn_ratelimited("dev_id %u: cannot destroy object %u: %d\n",
				    dev->dev_id, *id, ret);
	*id = 0;
	return ret;
}

int vn_glue_get_files(int device_fd, int iommufd, struct file **device_file,
		      struct file **iommufd_file, u32 *field)
{
	struct iommufd_ctx *ictx;
	struct file *df = NULL, *inf;

	if (device_file) {
		df = fget(device_fd);
		if (!df) {
			*field = VFIO_NEST_FIELD_DEVICE_FD;
			return -EBADF;
		}
		/* Only a device cdev binds to iommufd; a group fd cannot. */
		if (!vfio_file_is_valid(df) || vfio_file_is_group(df)) {
			fput(df);
			*field = VFIO_NEST_FIELD_DEVICE_FD;
			return -ENODEV;
		}
	}
	inf = fget(iommufd);
	if (!inf) {
		if (df)
			fput(df);
		*field = VFIO_NEST_FIELD_IOMMUFD;
		return -EBADF;
	}
	ictx = iommufd_ctx_from_file(inf);
	if (IS_ERR(ictx)) {
		fput(inf);
		if (df)
			fput(df);
		*field = VFIO_NEST_FIELD_IOMMUFD;
		return -EBADFD;
	}
	iommufd_ctx_put(ictx);
	if (device_file)
		*device_file = df;
	*iommufd_file = inf;
	return 0;
}

/*
 * vn_glue_check_binding - the device of @device_file must be bound to
 * @iommufd_file, as object @dev_id: every object of the attach is allocated
 * in @iommufd_file while VFIO attaches the device through its own binding,
 * so another iommufd would nest the device under objects of a different
 * context. (The binding belongs to the device, not to this file: a second
 * open of its cdev passes, and VFIO refuses its attach later.) Only a
 * cdev-opened device file is accepted: VFIO attaches only those to an
 * iommufd page table; a group's device file is an anonymous inode. The
 * dev_set lock keeps the binding from going away while it is read, as
 * VFIO's own callers of vfio_iommufd_get_dev_id() do.
 */
int vn_glue_check_binding(struct file *device_file, struct file *iommufd_file,
			  u32 dev_id, u32 *field)
{
	struct inode *inode = file_inode(device_file);
	struct iommufd_ctx *ictx;
	struct vfio_device *vdev;
	int id;

	if (!S_ISCHR(inode->i_mode) || !inode->i_cdev) {
		*field = VFIO_NEST_FIELD_DEVICE_FD;
		return -ENODEV;
	}
	vdev = container_of(inode->i_cdev, struct vfio_device, cdev);
	ictx = iommufd_ctx_from_file(iommufd_file);
	if (IS_ERR(ictx)) {
		*field = VFIO_NEST_FIELD_IOMMUFD;
		return -EBADFD;
	}
	mutex_lock(&vdev->dev_set->lock);
	id = vfio_iommufd_get_dev_id(vdev, ictx);
	mutex_unlock(&vdev->dev_set->lock);
	iommufd_ctx_put(ictx);
	if (id < 0) {
		*field = VFIO_NEST_FIELD_IOMMUFD;
		return -EXDEV;
	}
	if (id != dev_id) {
		*field = VFIO_NEST_FIELD_DEV_ID;
		return -ENOENT;
	}
	return 0;
}

int vn_glue_hw_info(struct vn_ctx *ctx, struct file *iommufd_file, u32 dev_id,
		    struct vn_hw *hw)
{
	struct iommu_hw_info_arm_smmuv3 info = {};
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(info),
	};
	int ret;

	ret = vn_ioctl_extra(ctx, iommufd_file, IOMMU_GET_HW_INFO, &cmd,
			     sizeof(cmd), &cmd.data_uptr, &info, sizeof(info),
			     true);
	if (ret)
		return ret;
	if (cmd.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		return -EOPNOTSUPP;
	memcpy(hw->idr, info.idr, sizeof(hw->idr));
	return 0;
}

/*
 * poll() on /dev/vfio-nest must not leave a waiter on a vEVENTQ that a
 * DETACH may free meanwhile, so our own entry sits on the queue for as long
 * as we hold it (as irqfd does) and forwards wake-ups to the context.
 */
static int vn_evt_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		       void *key)
{
	struct vn_dev *dev = container_of(wait, struct vn_dev, evt_wait);

	wake_up_poll(&dev->ctx->wq, EPOLLIN | EPOLLRDNORM);
	return 0;
}

static void vn_evt_queue_proc(struct file *file, wait_queue_head_t *wqh,
			      poll_table *pt)
{
	struct vn_dev *dev = container_of(pt, struct vn_dev, evt_pt);

	dev->evt_wqh = wqh;
	add_wait_queue(wqh, &dev->evt_wait);
}

static void vn_evt_unhook(struct vn_dev *dev)
{
	if (dev->evt_wqh)
		remove_wait_queue(dev->evt_wqh, &dev->evt_wait);
	dev->evt_wqh = NULL;
}

/*
 * vn_glue_check_ioas - is @ioas_id an IOAS of @iommufd_file? Asking for its
 * IOVA ranges with no room for them answers 0 or EMSGSIZE for an IOAS and
 * ENOENT for anything else, so a wrong id gets one errno, not whatever
 * HWPT allocation makes of it.
 */
int vn_glue_check_ioas(struct vn_ctx *ctx, struct file *iommufd_file,
		       u32 ioas_id)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
	};
	int ret;

	ret = vn_ioctl(ctx, iommufd_file, IOMMU_IOAS_IOVA_RANGES, &cmd,
		       sizeof(cmd));
	return ret == -EMSGSIZE ? 0 : ret;
}

/*
 * vn_object_exists - does @id name any object in the device's iommufd?
 * IOMMU_HWPT_INVALIDATE with no entries looks the id up whatever its type
 * and answers ENOENT only when there is none; it invalidates nothing.
 */
static bool vn_object_exists(struct vn_dev *dev, u32 id)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
	};

	return vn_ioctl(dev->ctx, dev->iommufd_file, IOMMU_HWPT_INVALIDATE,
			&cmd, sizeof(cmd)) != -ENOENT;
}

/*
 * vn_is_veventq_file - is @file an iommufd vEVENTQ? iommufd exports no
 * test, but its queues are anonymous-inode files that only iommufd names
 * "[iommufd-viommu-event]"; userspace can create neither. We then read it
 * through its f_op->read as iommufd's own read() does, so it must be
 * readable and pollable.
 */
static bool vn_is_veventq_file(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	       !strcmp(file_dentry(file)->d_name.name,
		       "[iommufd-viommu-event]") &&
	       (file->f_mode & FMODE_READ) && file->f_op->read &&
	       file->f_op->poll;
}

static int vn_veventq_alloc(struct vn_dev *dev)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = dev->viommu_id,
		.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = VN_VEVENTQ_DEPTH,
	};
	int ret;

	ret = vn_ioctl(dev->ctx, dev->iommufd_file, IOMMU_VEVENTQ_ALLOC, &cmd,
		       sizeof(cmd));
	if (ret)
		return ret;
	dev->veventq_id = cmd.out_veventq_id;
	/*
	 * iommufd installed the queue in the VMM's fd table; take it out so
	 * the records reach the VMM only as generic faults, through us. The
	 * fd number came back through memory the VMM can write, and another
	 * of its threads can close or dup2() that slot meanwhile: whatever
	 * file is there must prove to be an iommufd vEVENTQ, or it is
	 * dropped (the VMM raced itself; it loses that fd).
	 */
	dev->veventq_file = file_close_fd(cmd.out_veventq_fd);
	if (!dev->veventq_file)
		return -EBADF;
	if (!vn_is_veventq_file(dev->veventq_file)) {
		fput(dev->veventq_file);
		dev->veventq_file = NULL;
		return -EBADF;
	}
	init_waitqueue_func_entry(&dev->evt_wait, vn_evt_wake);
	init_poll_funcptr(&dev->evt_pt, vn_evt_queue_proc);
	vfs_poll(dev->veventq_file, &dev->evt_pt);
	return 0;
}

/*
 * The context descriptor page: shared anonymous memory of the VMM (so that
 * iommufd can pin it like any guest RAM), mapped into the VM's stage 2
 * read-only, so the guest's device cannot rewrite its own configuration.
 * The VMM could write it through its own mapping; it only hurts itself: a
 * nested STE confines every stage-1 output to the VM's stage 2.
 */
static int vn_cd_page_map(struct vn_dev *dev)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.ioas_id = dev->ioas_id,
		.length = PAGE_SIZE,
		.iova = dev->host_ipa,
	};
	unsigned long uva;
	int ret;

	uva = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(uva))
		return (int)uva;
	if (clear_user((void __user *)uva, PAGE_SIZE)) {
		vm_munmap(uva, PAGE_SIZE);
		return -EFAULT;
	}
	cmd.user_va = uva;
	ret = vn_ioctl(dev->ctx, dev->iommufd_file, IOMMU_IOAS_MAP, &cmd,
		       sizeof(cmd));
	if (ret) {
		vm_munmap(uva, PAGE_SIZE);
		return ret;
	}
	dev->cd_uva = uva;
	return 0;
}

static void vn_cd_page_unmap(struct vn_dev *dev)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = dev->ioas_id,
		.iova = dev->host_ipa,
		.length = PAGE_SIZE,
	};

	if (!dev->cd_uva)
		return;
	if (vn_ioctl(dev->ctx, dev->iommufd_file, IOMMU_IOAS_UNMAP, &cmd,
		     sizeof(cmd)))
		pr_warn_ratelimited("dev_id %u: cannot unmap host page\n",
				    dev->dev_id);
	if (vn_glue_can_use_mm(dev))
		vm_munmap(dev->cd_uva, PAGE_SIZE);
	dev->cd_uva = 0;
}

/*
 * vn_glue_nest_alloc - the objects nesting needs. The stage 2 is the VMM's
 * NEST_PARENT HWPT when dev->s2_hwpt_id is set, else one allocated on the
 * IOAS here; on error *@field names the request field at fault.
 */
int vn_glue_nest_alloc(struct vn_dev *dev, u32 *field)
{
	struct iommu_hwpt_alloc s2 = {
		.size = sizeof(s2),
		.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
		.dev_id = dev->dev_id,
		.pt_id = dev->ioas_id,
	};
	struct iommu_viommu_alloc viommu = {
		.size = sizeof(viommu),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = dev->dev_id,
	};
	struct iommu_vdevice_alloc vdev = {
		.size = sizeof(vdev),
		.dev_id = dev->dev_id,
		.virt_id = dev->vsid,
	};
	struct vn_ctx *ctx = dev->ctx;
	int ret;

	*field = VFIO_NEST_FIELD_S2_PT_ID;
	if (!dev->s2_hwpt_id) {
		ret = vn_ioctl(ctx, dev->iommufd_file, IOMMU_HWPT_ALLOC, &s2,
			       sizeof(s2));
		if (ret)
			return ret;
		dev->s2_hwpt_id = s2.out_hwpt_id;
		dev->s2_owned = true;
	}

	/*
	 * The vIOMMU is the check of a VMM's stage 2: iommufd wants a paging
	 * HWPT (ENOENT for any other id), allocated with NEST_PARENT, and
	 * arm-smmu-v3 one of the device's SMMU (EINVAL for either).
	 */
	viommu.hwpt_id = dev->s2_hwpt_id;
	ret = vn_ioctl(ctx, dev->iommufd_file, IOMMU_VIOMMU_ALLOC, &viommu,
		       sizeof(viommu));
	if (ret) {
		if (!dev->s2_owned) {
			*field = VFIO_NEST_FIELD_S2_HWPT_ID;
			if (ret == -ENOENT && vn_object_exists(dev,
							       dev->s2_hwpt_id))
				ret = -EINVAL;
		}
		goto err_free;
	}
	dev->viommu_id = viommu.out_viommu_id;
	*field = VFIO_NEST_FIELD_NONE;

	vdev.viommu_id = dev->viommu_id;
	ret = vn_ioctl(ctx, dev->iommufd_file, IOMMU_VDEVICE_ALLOC, &vdev,
		       sizeof(vdev));
	if (ret)
		goto err_free;
	dev->vdevice_id = vdev.out_vdevice_id;

	ret = vn_veventq_alloc(dev);
	if (ret)
		goto err_free;
	ret = vn_cd_page_map(dev);
	if (ret) {
		*field = VFIO_NEST_FIELD_HOST_IPA;
		goto err_free;
	}
	return 0;

err_free:
	vn_glue_nest_free(dev);
	return ret;
}

bool vn_glue_can_use_mm(struct vn_dev *dev)
{
	return dev->mm == current->mm && !(current->flags & PF_EXITING);
}

int vn_glue_write_cd(struct vn_dev *dev, unsigned int slot, const __le64 *cd)
{
	void __user *dst = (void __user *)dev->cd_uva + slot * VN_CD_BYTES;

	if (!vn_glue_can_use_mm(dev))
		return -EPERM;
	if (copy_to_user(dst, cd, VN_CD_BYTES))
		return -EFAULT;
	return 0;
}

/*
 * vn_glue_install - a new nested HWPT with @ste, the device switched to it
 * (iommufd's replace: no window without translation), the previous one
 * destroyed.
 */
int vn_glue_install(struct vn_dev *dev, const __le64 *ste)
{
	struct iommu_hwpt_arm_smmuv3 vste = {
		.ste = { ste[0], ste[1] },
	};
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.dev_id = dev->dev_id,
		.pt_id = dev->viommu_id,
		.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	u32 new_id;
	int ret;

	ret = vn_ioctl_extra(dev->ctx, dev->iommufd_file, IOMMU_HWPT_ALLOC,
			     &alloc, sizeof(alloc), &alloc.data_uptr, &vste,
			     sizeof(vste), false);
	if (ret)
		return ret;
	new_id = alloc.out_hwpt_id;

	attach.pt_id = new_id;
	ret = vn_ioctl(dev->ctx, dev->device_file,
		       VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach, sizeof(attach));
	if (ret) {
		vn_destroy(dev, &new_id);
		return ret;
	}
	vn_destroy(dev, &dev->nested_hwpt_id);
	dev->nested_hwpt_id = new_id;
	return 0;
}

/*
 * vn_glue_invalidate - issue @cmds (*@nr of them) on the device's vIOMMU;
 * *@nr becomes the number issued. The hot path of INVALIDATE: the commands
 * and the argument go to the scratch buffer, and the argument comes back
 * only when iommufd refused something (entry_num then says how far it got).
 */
int vn_glue_invalidate(struct vn_dev *dev, const struct vn_cmd *cmds, u32 *nr)
{
	struct iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.hwpt_id = dev->viommu_id,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(struct vn_cmd),
	};
	struct file *file = dev->iommufd_file;
	void __user *u, *ue;
	u32 done = 0, chunk;
	int ret = 0;

	while (done < *nr) {
		chunk = min_t(u32, *nr - done, VN_CMD_CHUNK);
		ret = vn_scratch(dev->ctx, ALIGN(sizeof(inv), 8) +
				 chunk * sizeof(*cmds), &u);
		if (ret)
			break;
		ue = u + ALIGN(sizeof(inv), 8);
		inv.data_uptr = (u64)(uintptr_t)ue;
		inv.entry_num = chunk;
		if (copy_to_user(ue, cmds + done, chunk * sizeof(*cmds)) ||
		    copy_to_user(u, &inv, sizeof(inv))) {
			ret = -EFAULT;
			break;
		}
		ret = file->f_op->unlocked_ioctl(file, IOMMU_HWPT_INVALIDATE,
						 (unsigned long)u);
		if (!ret) {
			done += chunk;
			continue;
		}
		if (!copy_from_user(&inv, u, sizeof(inv)))
			done += min(inv.entry_num, chunk);
		break;
	}
	*nr = done;
	return ret;
}

int vn_glue_detach(struct vn_dev *dev, bool abort)
{
	/* Back to the stage 2 alone: the VMM's HWPT, or the IOAS. */
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = dev->s2_owned ? dev->ioas_id : dev->s2_hwpt_id,
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	int ret;

	if (!dev->nested_hwpt_id)
		return 0;
	if (abort)
		ret = vn_ioctl(dev->ctx, dev->device_file,
			       VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach,
			       sizeof(detach));
	else
		ret = vn_ioctl(dev->ctx, dev->device_file,
			       VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach,
			       sizeof(attach));
	if (ret)
		return ret;
	vn_destroy(dev, &dev->nested_hwpt_id);
	return 0;
}

/*
 * vn_glue_nest_free - destroy what vn_glue_nest_alloc() created, in reverse.
 * Best effort: from a context where the VMM's iommufd cannot be driven (its
 * mm is gone) the objects stay in the VMM's iommufd, which frees them when
 * it closes; nothing of it is memory this module owns.
 */
void vn_glue_nest_free(struct vn_dev *dev)
{
	vn_evt_unhook(dev);
	if (vn_glue_can_use_mm(dev)) {
		vn_cd_page_unmap(dev);
		if (dev->veventq_file) {
			/*
			 * The queue's file pins the vEVENTQ object; it was
			 * ours alone (taken out of the fd table), and must be
			 * gone before IOMMU_DESTROY, not at return to user.
			 */
			__fput_sync(dev->veventq_file);
			dev->veventq_file = NULL;
		}
		vn_destroy(dev, &dev->veventq_id);
		vn_destroy(dev, &dev->vdevice_id);
		vn_destroy(dev, &dev->viommu_id);
		if (dev->s2_owned)
			vn_destroy(dev, &dev->s2_hwpt_id);
	}
	if (dev->veventq_file)
		fput(dev->veventq_file);
	dev->veventq_file = NULL;
}

ssize_t vn_glue_read_events(struct vn_dev *dev, void *buf, size_t len)
{
	struct file *file = dev->veventq_file;
	void __user *u;
	loff_t pos = 0;
	ssize_t n;

	if (!file || !file->f_op->read)
		return 0;
	len = min_t(size_t, len, VN_SCRATCH_LEN);
	n = vn_scratch(dev->ctx, len, &u);
	if (n)
		return n;
	n = file->f_op->read(file, u, len, &pos);
	if (n <= 0)
		return n;
	if (copy_from_user(buf, u, n))
		return -EFAULT;
	return n;
}

__poll_t vn_glue_events_pending(struct vn_dev *dev)
{
	if (!dev->veventq_file)
		return 0;
	return vfs_poll(dev->veventq_file, NULL);
}

/*
 * vn_glue_read_faults - up to @max fault records of @dev from its vEVENTQ,
 * decoded by the device's format.
 */
int vn_glue_read_faults(struct vn_dev *dev, struct vfio_nest_fault *out,
			unsigned int max)
{
	size_t len = max * sizeof(struct vn_raw_event);
	struct iommufd_vevent_header *hdr;
	unsigned int nr = 0;
	size_t off = 0;
	ssize_t n;
	void *buf;

	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = vn_glue_read_events(dev, buf, len);
	if (n < 0) {
		kvfree(buf);
		return n;
	}
	while (off + sizeof(*hdr) <= n && nr < max) {
		hdr = buf + off;
		off += sizeof(*hdr);
		if (hdr->flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			dev->lost = true;
			continue;
		}
		if (off + sizeof(struct iommu_vevent_arm_smmuv3) > n)
			break;
		memset(&out[nr], 0, sizeof(out[nr]));
		if (dev->fmt->decode_event(buf + off,
					   sizeof(struct iommu_vevent_arm_smmuv3),
					   &out[nr])) {
			out[nr].dev_id = dev->dev_id;
			out[nr].asid = dev->table.lpae.asid;
			if (dev->lost)
				out[nr].flags |= VFIO_NEST_FAULT_LOST;
			dev->lost = false;
			nr++;
		}
		off += sizeof(struct iommu_vevent_arm_smmuv3);
	}
	kvfree(buf);
	return nr;
}

MODULE_IMPORT_NS("IOMMUFD");
