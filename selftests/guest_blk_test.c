// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk behind virtio_iommu_pgt: the test disk (scripts/profiles.sh,
 * block n of 4 KiB starts with n as a little-endian u32 and continues with
 * (i * 7 + 3) & 0xff) reads back with the right bytes through O_DIRECT, so
 * the data really went through the IOMMU's translations, and fresh data
 * written through the IOMMU reads back equal.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

#define BLK		DISK_BLK
#define NBLK		DISK_NBLK
#define CHUNK		(64 * BLK)

/* First virtio block device, e.g. "vda", waiting for deferred probe */
static int find_vd(char *name, size_t len)
{
	char path[64];
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/sys/block/vda");
		if (path_exists(path)) {
			snprintf(name, len, "vda");
			return 0;
		}
		usleep(50000);
	}
	return -1;
}

FIXTURE(blk) {
	int fd;
	uint8_t *buf, *ref;
};

FIXTURE_SETUP(blk)
{
	char name[32];

	ASSERT_EQ(0, run_cmd("modprobe virtio_iommu_pgt"));
	ASSERT_EQ(0, find_vd(name, sizeof(name)));
	self->fd = disk_open(O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/%s: %s", name, strerror(errno));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, BLK, CHUNK));
	ASSERT_EQ(0, posix_memalign((void **)&self->ref, BLK, CHUNK));
}

FIXTURE_TEARDOWN(blk)
{
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
	free(self->ref);
}

TEST_F(blk, disk_behind_guest_iommu)
{
	char link[300], viommu[64], path[400], iommu[64];
	ssize_t n;

	n = readlink("/sys/block/vda/device", link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	/* /sys/block/vda/device -> .../0000:00:0x.0/virtioN */
	snprintf(path, sizeof(path), "/sys/block/vda/device/../iommu");
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	snprintf(iommu, sizeof(iommu), "%s", strrchr(link, '/') + 1);
	ASSERT_EQ(0, viommu_name(viommu, sizeof(viommu)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", iommu,
		 viommu);
	EXPECT_TRUE(path_exists(path));
}

TEST_F(blk, known_pattern_reads_back)
{
	uint32_t b, i;

	/* The upper half is the scratch area of written_data_reads_back */
	for (b = 0; b < NBLK / 2; b += CHUNK / BLK) {
		ASSERT_EQ(CHUNK, pread(self->fd, self->buf, CHUNK,
				       (off_t)b * BLK));
		for (i = 0; i < CHUNK / BLK; i++) {
			disk_block(self->ref, b + i);
			ASSERT_EQ(0, memcmp(self->ref, self->buf + i * BLK, BLK))
				TH_LOG("block %u differs", b + i);
		}
	}
}

/* VIRTIO_F_ACCESS_PLATFORM (bit 33): the device's DMA is translated */
static int vda_access_platform(void)
{
	char feat[128];

	if (read_line("/sys/block/vda/device/features", feat, sizeof(feat)))
		return -1;
	return strlen(feat) > 33 && feat[33] == '1';
}

/*
 * Without ACCESS_PLATFORM, virtio bypasses the IOMMU in the driver (no DMA
 * API) and in QEMU alike: then nothing here is about the IOMMU. QEMU offers
 * it with -device virtio-blk-pci,...,iommu_platform=on.
 */
TEST_F(blk, io_goes_through_iommu)
{
	long long req0 = viommu_stat("requests");

	if (vda_access_platform() != 1)
		SKIP(return, "virtio-blk without VIRTIO_F_ACCESS_PLATFORM bypasses the IOMMU");
	ASSERT_EQ(CHUNK, pread(self->fd, self->buf, CHUNK, 0));
	EXPECT_LT(req0, viommu_stat("requests"));
}

TEST_F(blk, written_data_reads_back)
{
	const off_t off = (off_t)(NBLK / 2) * BLK;
	uint32_t i, round;

	srandom(1234);
	for (round = 0; round < 8; round++) {
		for (i = 0; i < CHUNK / 4; i++)
			((uint32_t *)self->ref)[i] = (uint32_t)random();
		ASSERT_EQ(CHUNK, pwrite(self->fd, self->ref, CHUNK,
					off + (off_t)round * CHUNK));
	}
	ASSERT_EQ(0, fsync(self->fd));
	srandom(1234);
	for (round = 0; round < 8; round++) {
		for (i = 0; i < CHUNK / 4; i++)
			((uint32_t *)self->ref)[i] = (uint32_t)random();
		memset(self->buf, 0, CHUNK);
		ASSERT_EQ(CHUNK, pread(self->fd, self->buf, CHUNK,
				       off + (off_t)round * CHUNK));
		ASSERT_EQ(0, memcmp(self->ref, self->buf, CHUNK))
			TH_LOG("round %u differs", round);
	}

	/* Put the pattern back: the disk image outlives the run */
	for (round = 0; round < 8; round++) {
		for (i = 0; i < CHUNK / BLK; i++)
			disk_block(self->ref + i * BLK,
				   NBLK / 2 + round * (CHUNK / BLK) + i);
		ASSERT_EQ(CHUNK, pwrite(self->fd, self->ref, CHUNK,
					off + (off_t)round * CHUNK));
	}
	ASSERT_EQ(0, fsync(self->fd));
}

static int vda_group_type(const char *bdf, const char *type)
{
	if (write_str("/sys/bus/pci/drivers/virtio-pci/unbind", bdf))
		return -1;
	if (pci_set_group_type(bdf, type))
		return -1;
	return write_str("/sys/bus/pci/drivers/virtio-pci/bind", bdf);
}

/*
 * The pattern reads back with the disk's group in an identity domain: the
 * device's bypass with BYPASS_CONFIG, an identity-mapped classic domain
 * without it (then the virtio-blk device's DMA goes through MAPs of the
 * whole input range, DMA address = physical address).
 */
TEST_F(blk, identity_domain_reads_back)
{
	int bypass = viommu_has_feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
	long long domains0 = viommu_stat("classic_domains") +
			     viommu_stat("table_domains");
	char link[PATH_MAX], bdf[64], type[32];
	uint32_t b, i;
	int fd;

	ASSERT_LE(0, bypass);
	ASSERT_NE(NULL, realpath("/sys/block/vda/device/..", link));
	snprintf(bdf, sizeof(bdf), "%s", strrchr(link, '/') + 1);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vda_group_type(bdf, "identity"));
	ASSERT_EQ(0, pci_group_type(bdf, type, sizeof(type)));
	EXPECT_STREQ("identity", type);
	/* Bypass: the DMA domain is gone; else a classic one replaced it */
	EXPECT_EQ(domains0 - bypass, viommu_stat("classic_domains") +
				     viommu_stat("table_domains"));

	ASSERT_EQ(0, find_vd(type, sizeof(type)));
	fd = disk_open(O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd) TH_LOG("open /dev/vda: %s", strerror(errno));
	for (b = 0; b < NBLK / 2; b += CHUNK / BLK) {
		ASSERT_EQ(CHUNK, pread(fd, self->buf, CHUNK, (off_t)b * BLK));
		for (i = 0; i < CHUNK / BLK; i++)
			disk_block(self->ref + i * BLK, b + i);
		ASSERT_EQ(0, memcmp(self->ref, self->buf, CHUNK))
			TH_LOG("identity: blocks from %u differ", b);
	}
	close(fd);
	ASSERT_EQ(0, vda_group_type(bdf, "DMA"));
	ASSERT_EQ(0, find_vd(type, sizeof(type)));
}

TEST_HARNESS_MAIN
