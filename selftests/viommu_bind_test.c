// SPDX-License-Identifier: GPL-2.0
/*
 * The guest module, loaded by modprobe, binds the virtio-iommu device (virtio
 * device ID 23) and the in-tree virtio_iommu driver stays away from it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "test_util.h"

#define VIRTIO_ID_IOMMU 23

/* Find the virtio device with ID 23; fills its sysfs name. */
static int find_viommu(char *name, size_t len)
{
	return sysfs_find("/sys/bus/virtio/devices", "device", VIRTIO_ID_IOMMU,
			  NULL, 0, name, len);
}

/*
 * What udev would do: load by the device's modalias. Both drivers match it;
 * the modprobe.d file from guest/ must leave only ours.
 */
TEST(modalias_loads_our_driver_only)
{
	char name[256], path[300], alias[128], cmd[256];

	ASSERT_EQ(0, find_viommu(name, sizeof(name)));
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/modalias", name);
	ASSERT_EQ(0, read_line(path, alias, sizeof(alias)));
	snprintf(cmd, sizeof(cmd), "modprobe '%s'", alias);
	ASSERT_EQ(0, run_cmd(cmd));
	ASSERT_TRUE(path_exists("/sys/module/virtio_iommu_pgt"));
	ASSERT_FALSE(path_exists("/sys/module/virtio_iommu"));
}

TEST(driver_bound_to_virtio_iommu)
{
	char name[256], path[300], link[256];
	ssize_t n;

	ASSERT_EQ(0, find_viommu(name, sizeof(name)));
	ASSERT_EQ(0, run_cmd("modprobe virtio_iommu_pgt"));
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	ASSERT_NE(NULL, strstr(link, "/virtio_iommu_pgt"));
}

TEST_HARNESS_MAIN
