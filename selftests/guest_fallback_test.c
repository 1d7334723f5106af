// SPDX-License-Identifier: GPL-2.0
/*
 * Fallback to classic MAP/UNMAP when the device offers the page-table
 * extension in a format the driver cannot use: the viommu-pgt-nogran profile
 * (scripts/profiles.sh) offers only the 16K and 64K granules, both above the
 * guest's 4K PAGE_SIZE, and viommu-pgt-nogran-16k only 64K to a 16K guest.
 * The driver negotiates the feature, says why it does not use it, and its
 * domains are classic: DMA maps and unmaps trap as MAP and UNMAP requests and
 * no INVALIDATE is ever sent. guest_dma_test and
 * guest_blk_test check DMA itself in viommu-pgt-nogran; the 16K guest's
 * classic DMA is viommu-16k's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "guest_util.h"

/* guest/domain_table.c: no offered granule fits PAGE_SIZE */
#define FALLBACK_LINE	"page-table format unusable (no granule <= PAGE_SIZE), using MAP/UNMAP"

FIXTURE(fallback) {
	char bdf[64];
};

FIXTURE_SETUP(fallback)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
}

FIXTURE_TEARDOWN(fallback)
{
}

/* The device offers the extension and the driver negotiated it */
TEST_F(fallback, feature_negotiated)
{
	char mode[32];

	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	EXPECT_STREQ("table", mode);
}

TEST_F(fallback, reason_logged)
{
	EXPECT_EQ(1, klog_contains(FALLBACK_LINE));
}

/* 8 round trips = 16 maps and 16 unmaps, each one a request */
TEST_F(fallback, domains_classic)
{
	long long maps0 = viommu_stat("maps"), unmaps0 = viommu_stat("unmaps");
	char res[256];

	ASSERT_LE(0, maps0);
	ASSERT_EQ(0, edu_cmd("roundtrip", "8 4096"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("%s", res);
	EXPECT_EQ(0, edu_roundtrip_translated(res, 8));
	EXPECT_LE(maps0 + 16, viommu_stat("maps"));
	EXPECT_LE(unmaps0 + 16, viommu_stat("unmaps"));
	/* No table-mode domain since boot, none now, edu's is classic */
	EXPECT_EQ(0, viommu_stat("invalidations"));
	EXPECT_EQ(0, viommu_stat("table_domains"));
	EXPECT_LE(1, viommu_stat("classic_domains"));
}

TEST_HARNESS_MAIN
