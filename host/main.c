// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-nest: /dev/vfio-nest, nested translation for VFIO devices.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "../common/vfio_nest.h"

static long vfio_nest_get_version(void __user *uarg)
{
	struct vfio_nest_version ver;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	ret = copy_struct_from_user(&ver, sizeof(ver), uarg, usize);
	if (ret)
		return ret;
	if (ver.flags || ver.__reserved)
		return -EINVAL;
	ver.version = VFIO_NEST_API_VERSION;
	if (copy_to_user(uarg, &ver, min_t(size_t, usize, sizeof(ver))))
		return -EFAULT;
	return 0;
}

static long vfio_nest_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_NEST_GET_VERSION:
		return vfio_nest_get_version(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vfio_nest_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = vfio_nest_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vfio_nest_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vfio-nest",
	.fops = &vfio_nest_fops,
	.mode = 0600,
};

static int __init vfio_nest_init(void)
{
	int ret;

	ret = misc_register(&vfio_nest_misc);
	if (ret) {
		pr_err("cannot register /dev/vfio-nest: %d\n", ret);
		return ret;
	}
	pr_info("uAPI version %d ready on /dev/vfio-nest\n", VFIO_NEST_API_VERSION);
	return 0;
}

static void __exit vfio_nest_exit(void)
{
	misc_deregister(&vfio_nest_misc);
}

module_init(vfio_nest_init);
module_exit(vfio_nest_exit);
MODULE_DESCRIPTION("Nested stage-1 translation and invalidation passthrough for VFIO devices");
MODULE_LICENSE("GPL");
