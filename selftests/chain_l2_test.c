// SPDX-License-Identifier: GPL-2.0
/*
 * Whole chain, run in L2 (the guest of the inner QEMU inside L1): QEMU's edu,
 * assigned from L1 through vfio-pci + iommufd, sits behind the guest module
 * virtio_iommu_pgt, and its DMA goes through the DMA API (edu_dma test
 * driver), the guest module, the inner QEMU's virtio-iommu, L1's iommufd and
 * L1's SMMUv3 before it reaches L2's memory.
 *
 * Kernel command line knob (set by scripts/chain.sh):
 *   chain.mode=classic|table  the mode the guest module must be in
 *                             (absent: either, reported only)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

/* Value of "key=" on the kernel command line, or "" */
static void cmdline_get(const char *key, char *val, size_t len)
{
	char line[1024], pat[64];
	const char *p;

	val[0] = 0;
	if (read_line("/proc/cmdline", line, sizeof(line)))
		return;
	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(line, pat);
	if (!p)
		return;
	p += strlen(pat);
	snprintf(val, len, "%.*s", (int)strcspn(p, " "), p);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(chain) {
	char bdf[64];
	char viommu[64];
	char want[32];	/* chain.mode=, "" if absent */
};

FIXTURE_SETUP(chain)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, viommu_name(self->viommu, sizeof(self->viommu)));
	cmdline_get("chain.mode", self->want, sizeof(self->want));
}

FIXTURE_TEARDOWN(chain)
{
}

/* edu is bound to the test driver and translated by the guest module */
TEST_F(chain, edu_behind_guest_module)
{
	char name[64], type[32], mode[32], path[300];

	/* The core links endpoints to the virtio-iommu's PCI device */
	ASSERT_EQ(0, pci_iommu_name(self->bdf, name, sizeof(name)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", name,
		 self->viommu);
	EXPECT_TRUE(path_exists(path));
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_EQ(0, strncmp(type, "DMA", 3));
	ASSERT_TRUE(path_exists(EDU_DEBUGFS "/roundtrip"));
	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	TH_LOG("edu %s behind %s (%s), domain %s, guest module mode %s%s%s",
	       self->bdf, self->viommu, name, type, mode,
	       self->want[0] ? ", expected " : "", self->want);
	if (self->want[0])
		EXPECT_STREQ(self->want, mode);
}

/*
 * Round trips RAM -> edu -> RAM through the whole chain: the data only comes
 * back right if every stage (guest IOVA -> L2 IPA -> L1 PA) was set up. The
 * device-wide mode says what the virtio-iommu offers; which path edu's domain
 * took shows in the requests: classic sends MAP/UNMAP, table mode only
 * INVALIDATEs (an assigned endpoint without a page-table format falls back to
 * classic even on a table-mode device).
 */
TEST_F(chain, roundtrip)
{
	long long maps0 = viommu_stat("maps"), req0 = viommu_stat("requests");
	long long inv0 = viommu_stat("invalidations"), maps, inv;
	double t0 = now_s();
	char res[256];

	ASSERT_EQ(0, edu_cmd("roundtrip", "8 4096"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	maps = viommu_stat("maps") - maps0;
	inv = viommu_stat("invalidations") - inv0;
	TH_LOG("%s (%.2f s, %lld requests, %lld maps, %lld invalidations: %s domain)",
	       res, now_s() - t0, viommu_stat("requests") - req0, maps, inv,
	       maps ? "classic" : "table");
	if (!strcmp(self->want, "table")) {
		EXPECT_EQ(0, maps);
		EXPECT_LT(0, inv);
	} else if (!strcmp(self->want, "classic")) {
		EXPECT_LT(0, maps);
	}
	EXPECT_EQ(0, edu_roundtrip_translated(res, 8));
	EXPECT_LT(req0, viommu_stat("requests"));
}

TEST_F(chain, roundtrip_sizes)
{
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 1"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 777"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4095"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "1 4096"));
}

/*
 * The host keeps edu's context descriptor at a guest-physical window that
 * the device reports in a HOST_WINDOW probe property. The guest module
 * names it at probe and maps no page there (one refusal line), while the
 * first page after the window maps.
 */
TEST_F(chain, host_window_not_mapped)
{
	unsigned long long start, end, page = sysconf(_SC_PAGESIZE);
	char text[96], line[256], arg[32], res[256];
	int refusals;

	if (strcmp(self->want, "table"))
		SKIP(return, "no host window outside table mode");
	snprintf(text, sizeof(text), "%s: host structures at [", self->bdf);
	ASSERT_EQ(0, klog_after(text, line, sizeof(line)));
	if (sscanf(line, "%llx-%llx", &start, &end) != 2)
		ASSERT_TRUE(false) TH_LOG("no window in \"%s\"", line);
	TH_LOG("host window [%#llx-%#llx]", start, end);

	refusals = klog_count("meets the host window");
	snprintf(arg, sizeof(arg), "%#llx", start & ~(page - 1));
	ASSERT_EQ(0, edu_cmd("map_phys", arg));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	EXPECT_NE(NULL, strstr(res, "err=-22 ")) TH_LOG("%s", res);
	EXPECT_EQ(refusals + 1, klog_count("meets the host window"));

	snprintf(arg, sizeof(arg), "%#llx", (end | (page - 1)) + 1);
	ASSERT_EQ(0, edu_cmd("map_phys", arg));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	EXPECT_NE(NULL, strstr(res, "err=0 ")) TH_LOG("%s", res);
}

/* The test driver can go and come back: the domain is torn down and rebuilt */
TEST_F(chain, rebind_roundtrip)
{
	ASSERT_EQ(0, run_cmd("rmmod edu_dma"));
	ASSERT_EQ(0, run_cmd("modprobe edu_dma"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

TEST_HARNESS_MAIN
