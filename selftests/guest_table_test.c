// SPDX-License-Identifier: GPL-2.0
/*
 * Table mode (patched QEMU offering VIRTIO_IOMMU_F_ATTACH_TABLE): the guest
 * module shares io-pgtable-arm tables with the device, so DMA mappings never
 * send MAP or UNMAP; only INVALIDATE requests reach the device.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

FIXTURE(table) {
	char bdf[64];
};

FIXTURE_SETUP(table)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
}

FIXTURE_TEARDOWN(table)
{
}

TEST_F(table, device_in_table_mode)
{
	char mode[32];

	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	EXPECT_STREQ("table", mode);
	/* And edu's DMA domain (at least) shares its table */
	EXPECT_LE(1, viommu_stat("table_domains"));
}

/* 8 round trips = 16 maps and 16 unmaps: none may trap as MAP or UNMAP */
TEST_F(table, map_unmap_never_trap)
{
	long long maps0 = viommu_stat("maps"), unmaps0 = viommu_stat("unmaps");
	long long inval0 = viommu_stat("invalidations");
	char res[256];

	ASSERT_LE(0, maps0);
	ASSERT_EQ(0, edu_cmd("roundtrip", "8 4096"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("%s", res);
	EXPECT_EQ(maps0, viommu_stat("maps"));
	EXPECT_EQ(unmaps0, viommu_stat("unmaps"));
	/* Strict domain: one leaf invalidation per unmap */
	EXPECT_LE(inval0 + 16, viommu_stat("invalidations"));
	/* A slow device (viommu-pgt-slow) is not a broken one */
	EXPECT_EQ(0, viommu_stat("broken"));
}

/*
 * The granule rule (docs/guest.md, Page sizes): the largest offered granule
 * not above PAGE_SIZE, and no other, in every table domain so far. The
 * masks are unions over all table domains: every endpoint of these test
 * machines is offered the same granules.
 */
TEST_F(table, granule_largest_fitting_page_size)
{
	long long offered = viommu_stat("granules_offered");
	long long used = viommu_stat("granules_used");
	long page = sysconf(_SC_PAGESIZE);
	long long fit;

	TH_LOG("offered %#llx, used %#llx, PAGE_SIZE %#lx", offered, used, page);
	ASSERT_LT(0, offered);
	fit = offered & ((page << 1) - 1);
	ASSERT_NE(0, fit);
	while (fit & (fit - 1))
		fit &= fit - 1;
	EXPECT_EQ(fit, used);
}

TEST_HARNESS_MAIN
