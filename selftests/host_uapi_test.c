// SPDX-License-Identifier: GPL-2.0
/*
 * host_uapi_test: the /dev/vfio-nest ioctl surface that needs no device:
 * version, unknown ioctls, and the size/flags/reserved rules every ioctl
 * structure follows (include/uapi/linux/iommufd.h conventions).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "host_test.h"

FIXTURE(vfio_nest) {
	int fd;
};

FIXTURE_SETUP(vfio_nest)
{
	self->fd = open_vfio_nest();
	if (self->fd < 0)
		SKIP(return, "/dev/vfio-nest: %s", strerror(errno));
}

FIXTURE_TEARDOWN(vfio_nest)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(vfio_nest, get_version)
{
	struct vfio_nest_version ver = { .size = sizeof(ver) };

	ASSERT_EQ(0, ioctl(self->fd, VFIO_NEST_GET_VERSION, &ver));
	ASSERT_EQ((__u32)VFIO_NEST_API_VERSION, ver.version);
	ASSERT_EQ(sizeof(ver), ver.size);
}

TEST_F(vfio_nest, get_version_flags_reserved)
{
	struct vfio_nest_version ver = { .size = sizeof(ver), .flags = 1 };

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, VFIO_NEST_GET_VERSION, &ver));
	ver.flags = 1u << 31;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, VFIO_NEST_GET_VERSION, &ver));
	ver.flags = 0;
	ver.__reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_NEST_GET_VERSION, &ver));
}

TEST_F(vfio_nest, bad_pointer)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, VFIO_NEST_GET_VERSION, NULL));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, VFIO_NEST_GET_VERSION, 8));
}

TEST_F(vfio_nest, unknown_ioctl)
{
	struct vfio_nest_version ver = { .size = sizeof(ver) };

	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(VFIO_NEST_TYPE, 0x05), &ver));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(VFIO_NEST_TYPE, 0xff), &ver));
	/* iommufd's IOMMU_DESTROY, and the rest of its range. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(';', 0x80), &ver));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(';', 0x84), &ver));
	/* Direction/size bits are not part of our numbers. */
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd,
				   _IOWR(VFIO_NEST_TYPE, VFIO_NEST_CMD_BASE,
					 struct vfio_nest_version), &ver));
}

/*
 * Every structure is extensible: shorter than its last mandatory field (for
 * all of ours, the last field) is EINVAL, longer with a non-zero tail is
 * E2BIG, longer with a zero tail behaves exactly like the exact size.
 */
static void test_length(struct __test_metadata *_metadata, int fd,
			unsigned long cmd, size_t size)
{
	uint8_t buf[256] = {};
	__u32 *usize = (__u32 *)buf;
	int old_errno, rc;

	ASSERT_LT(size + 1, sizeof(buf));
	buf[size] = UINT8_MAX;
	*usize = size - 1;
	EXPECT_ERRNO(EINVAL, ioctl(fd, cmd, buf));
	*usize = 0;
	EXPECT_ERRNO(EINVAL, ioctl(fd, cmd, buf));
	*usize = size + 1;
	EXPECT_ERRNO(E2BIG, ioctl(fd, cmd, buf));
	*usize = size;
	rc = ioctl(fd, cmd, buf);
	old_errno = errno;
	memset(buf, 0, sizeof(buf));
	*usize = size + 1;
	if (rc)
		EXPECT_ERRNO(old_errno, ioctl(fd, cmd, buf));
	else
		ASSERT_EQ(0, ioctl(fd, cmd, buf));
}

TEST_F(vfio_nest, struct_lengths)
{
	test_length(_metadata, self->fd, VFIO_NEST_GET_VERSION,
		    sizeof(struct vfio_nest_version));
	test_length(_metadata, self->fd, VFIO_NEST_GET_INFO,
		    sizeof(struct vfio_nest_info));
	test_length(_metadata, self->fd, VFIO_NEST_ATTACH_TABLE,
		    sizeof(struct vfio_nest_attach_table));
	test_length(_metadata, self->fd, VFIO_NEST_DETACH_TABLE,
		    sizeof(struct vfio_nest_detach_table));
	test_length(_metadata, self->fd, VFIO_NEST_INVALIDATE,
		    sizeof(struct vfio_nest_invalidate));
}

/*
 * On an SMMU that cannot nest (stock QEMU: no IDR3.FWB) GET_INFO says so and
 * ATTACH_TABLE is refused up front, leaving nothing behind.
 */
TEST(no_nesting_refused)
{
	struct vmm v;
	struct vfio_nest_attach_table at;
	int ret = vmm_setup(&v);

	if (ret != -EOPNOTSUPP) {
		vmm_teardown(&v);
		if (ret == 0)
			SKIP(return, "this SMMU can nest");
		SKIP(return, "%s", skip_reason(ret) ?: strerror(-ret));
	}
	ASSERT_EQ(0, v.info.out_caps & VFIO_NEST_CAP_NESTING);
	ASSERT_EQ(1u << VFIO_NEST_FORMAT_ARM_LPAE_S1, v.info.out_formats);
	v.g.root = GUEST_IPA;
	at = attach_args(&v, ASID);
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(v.fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_ERRNO(ENOENT, detach_table(&v, 0));
	/* The device is still the VMM's to use. */
	ASSERT_EQ(0, vfio_edu_attach(&v.edu, v.edu.ioas_id));
	vmm_teardown(&v);
}

/*
 * Our numbers sent to an iommufd by mistake: iommufd must not know them.
 * When they were iommufd's own (';' 0x80..), GET_VERSION there was
 * IOMMU_DESTROY of the object named by its flags field.
 */
TEST(numbers_unknown_to_iommufd)
{
	unsigned int cmds[] = {
		VFIO_NEST_GET_VERSION, VFIO_NEST_GET_INFO,
		VFIO_NEST_ATTACH_TABLE, VFIO_NEST_DETACH_TABLE,
		VFIO_NEST_INVALIDATE,
	};
	uint32_t arg[64] = { sizeof(arg) };
	unsigned int i;
	int fd = open("/dev/iommu", O_RDWR);

	if (fd < 0)
		SKIP(return, "/dev/iommu: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		arg[0] = 16;
		EXPECT_ERRNO(ENOTTY, ioctl(fd, cmds[i], arg));
	}
	close(fd);
}

TEST(open_many)
{
	int fds[16];
	int i;

	for (i = 0; i < 16; i++) {
		fds[i] = open_vfio_nest();
		if (fds[i] < 0 && i == 0)
			SKIP(return, "/dev/vfio-nest: %s", strerror(errno));
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST_HARNESS_MAIN
