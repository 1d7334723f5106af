// SPDX-License-Identifier: GPL-2.0
/*
 * Both modules load and unload through modprobe (depmod'ed module tree,
 * modprobe.d honoured), leave their marks in sysfs, and leave nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vfio_nest.h"
#include "test_util.h"

TEST(host_module_loads_and_unloads)
{
	ASSERT_EQ(0, run_cmd("modprobe vfio_nest"));
	ASSERT_TRUE(path_exists("/sys/module/vfio_nest"));
	ASSERT_TRUE(path_exists("/dev/vfio-nest"));
	ASSERT_TRUE(path_exists("/sys/module/vfio_nest/version"));
	ASSERT_EQ(0, run_cmd("modprobe -r vfio_nest"));
	ASSERT_FALSE(path_exists("/sys/module/vfio_nest"));
	/* The node may stay (a static node); the device is gone. */
	ASSERT_FALSE(path_exists("/sys/class/misc/vfio-nest"));
}

/*
 * Opening /dev/vfio-nest loads the module: its fixed misc minor and devname
 * alias give the static node init made from modules.devname.
 */
TEST(host_module_loads_on_open)
{
	int fd;

	run_cmd("modprobe -r vfio_nest 2>/dev/null");
	ASSERT_FALSE(path_exists("/sys/module/vfio_nest"));
	fd = open("/dev/vfio-nest", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_TRUE(path_exists("/sys/module/vfio_nest"));
	close(fd);
	ASSERT_EQ(0, run_cmd("modprobe -r vfio_nest"));
}

TEST(host_module_busy_while_open)
{
	int fd;

	ASSERT_EQ(0, run_cmd("modprobe vfio_nest"));
	fd = open("/dev/vfio-nest", O_RDWR);
	ASSERT_LE(0, fd);
	/* An open /dev/vfio-nest pins the module: rmmod must refuse. */
	ASSERT_NE(0, run_cmd("rmmod vfio_nest 2>/dev/null"));
	ASSERT_TRUE(path_exists("/sys/module/vfio_nest"));
	close(fd);
	ASSERT_EQ(0, run_cmd("modprobe -r vfio_nest"));
}

TEST(version_ioctl)
{
	struct vfio_nest_version ver = { .size = sizeof(ver) };
	int fd;

	ASSERT_EQ(0, run_cmd("modprobe vfio_nest"));
	fd = open("/dev/vfio-nest", O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VFIO_NEST_GET_VERSION, &ver));
	EXPECT_EQ(VFIO_NEST_API_VERSION, ver.version);
	EXPECT_EQ(-1, ioctl(fd, _IO(VFIO_NEST_TYPE, 0x7f), &ver));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
	ASSERT_EQ(0, run_cmd("modprobe -r vfio_nest"));
}

TEST(guest_module_loads_and_unloads)
{
	ASSERT_EQ(0, run_cmd("modprobe virtio_iommu_pgt"));
	ASSERT_TRUE(path_exists("/sys/module/virtio_iommu_pgt"));
	ASSERT_TRUE(path_exists("/sys/bus/virtio/drivers/virtio_iommu_pgt"));
	ASSERT_EQ(0, run_cmd("modprobe -r virtio_iommu_pgt"));
	ASSERT_FALSE(path_exists("/sys/module/virtio_iommu_pgt"));
}

TEST_HARNESS_MAIN
