// SPDX-License-Identifier: GPL-2.0
/*
 * DMA of QEMU's edu device through virtio_iommu_pgt, in whatever mode the
 * device allows (classic MAP/UNMAP on stock QEMU, shared tables on the
 * patched one): round trips through the DMA API, a use-after-unmap that only
 * a skipped invalidation lets through, a fault on an unmapped IOVA (logged,
 * or given to the fault handler of a domain the driver owns), the
 * identity domain, and a module unload refused while the device is in use.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

FIXTURE(edu) {
	char bdf[64];
	char viommu[64];
};

FIXTURE_SETUP(edu)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, viommu_name(self->viommu, sizeof(self->viommu)));
	ASSERT_TRUE(path_exists(EDU_DEBUGFS "/roundtrip"));
}

FIXTURE_TEARDOWN(edu)
{
	if (viommu_has_knobs()) {
		viommu_set_skip(0);
		viommu_knob("fail_inval_alloc", 0);
		viommu_knob("fail_attach", 0);
	}
	if (!path_exists(EDU_DEBUGFS "/roundtrip"))
		edu_bind(self->bdf, true);
	edu_set_domain_type(self->bdf, "DMA");
}

TEST_F(edu, behind_guest_iommu)
{
	char name[64], type[32];

	char path[300];

	/* The core links endpoints to the virtio-iommu's PCI device */
	ASSERT_EQ(0, pci_iommu_name(self->bdf, name, sizeof(name)));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", name,
		 self->viommu);
	EXPECT_TRUE(path_exists(path));
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_EQ(0, strncmp(type, "DMA", 3));
}

TEST_F(edu, roundtrip)
{
	long long req0 = viommu_stat("requests");
	char res[256];

	ASSERT_EQ(0, edu_cmd("roundtrip", "8 4096"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("%s", res);
	EXPECT_EQ(0, edu_roundtrip_translated(res, 8));
	/* Every map and unmap went through the guest module */
	EXPECT_LT(req0, viommu_stat("requests"));
}

TEST_F(edu, roundtrip_odd_sizes)
{
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 1"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 777"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4095"));
}

/*
 * stale_case - one use-after-unmap through edu (edu_dma's "stale" @shape).
 * Without the invalidation of the unmap, the device still reaches the old
 * buffer through the unmapped IOVA; with it, it must not. Both halves have
 * to hold, or the test would pass on an IOMMU that never translates: the
 * test knob drops the next @drop invalidations for the second.
 */
static void stale_case(struct __test_metadata *_metadata, const char *bdf,
		       const char *shape, int drop)
{
	unsigned long long stale;
	char type[32], res[256];
	int ret;

	ASSERT_EQ(0, pci_group_type(bdf, type, sizeof(type)));
	if (strcmp(type, "DMA"))
		SKIP(return, "lazy (%s) domain: unmap is deferred by design", type);

	ret = edu_cmd("stale", shape);
	/* Only "big" needs a free 4 MiB block */
	if (ret == -ENOMEM && !strcmp(shape, "big"))
		SKIP(return, "no free 4 MiB block");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("invalidated: %s", res);
	ASSERT_EQ(0, kv_get(res, "stale", &stale));
	EXPECT_EQ(0, stale);

	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	ASSERT_EQ(0, viommu_set_skip(drop));
	ret = edu_cmd("stale", shape);
	ASSERT_EQ(0, viommu_set_skip(0));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("invalidation skipped: %s", res);
	ASSERT_EQ(0, kv_get(res, "stale", &stale));
	EXPECT_EQ(1, stale);

	/* The held-back invalidation was sent on reset: all is usable again */
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

/* One page */
TEST_F(edu, stale_translation_caught)
{
	stale_case(_metadata, self->bdf, "small", 1);
}

/*
 * 16 pages, DMA through the last: an invalidation that covers less than
 * the whole unmap (its first page, say) leaves it stale.
 */
TEST_F(edu, stale_caught_on_last_page)
{
	stale_case(_metadata, self->bdf, "wide", 1);
}

/*
 * 2 MiB of 4 KiB pages: the unmap frees a whole page table, so the
 * invalidation is the walk flush (table mode) or one large UNMAP (classic).
 * Table mode sends two for this unmap: the walk flush before the table is
 * freed, then the gathered leaf range; both are dropped (classic: the one
 * UNMAP, plus an unrelated one that the reset sends late).
 */
TEST_F(edu, stale_translation_caught_table_freed)
{
	stale_case(_metadata, self->bdf, "big", 2);
}

TEST_F(edu, fault_on_unmapped_iova_reported)
{
	const unsigned long long iova = 0x10000;
	long long faults0 = viommu_stat("faults");
	int i;

	ASSERT_LE(0, faults0);
	ASSERT_EQ(0, edu_cmd("fault", "0x10000"));
	/* Fault events arrive asynchronously */
	for (i = 0; i < 100 && viommu_stat("faults") == faults0; i++)
		usleep(20000);
	EXPECT_LT(faults0, viommu_stat("faults"));
	/* Reported per access: somewhere in the 4 KiB edu tried to read */
	EXPECT_LE(iova, viommu_last_fault_addr());
	EXPECT_GT(iova + 4096, viommu_last_fault_addr());
	/* And the device is still fine */
	EXPECT_EQ(0, edu_cmd("roundtrip", "1 4096"));
}

/*
 * A driver that owns its domain and set a fault handler hears of the fault
 * (report_iommu_fault) with the address and direction, instead of a log line.
 */
TEST_F(edu, fault_reaches_domain_handler)
{
	unsigned long long reported, iova, flags;
	long long handled0 = viommu_stat("faults_handled");
	char res[256];

	ASSERT_LE(0, handled0);
	ASSERT_EQ(0, edu_cmd("own_fault", "0x20000"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("%s", res);
	ASSERT_EQ(0, kv_get(res, "reported", &reported));
	ASSERT_LE(1, reported);
	ASSERT_EQ(0, kv_get(res, "iova", &iova));
	EXPECT_LE(0x20000, iova);
	EXPECT_GT(0x21000, iova);
	/* edu read the buffer: IOMMU_FAULT_READ, not IOMMU_FAULT_WRITE */
	ASSERT_EQ(0, kv_get(res, "flags", &flags));
	EXPECT_EQ(0, flags);
	EXPECT_LT(handled0, viommu_stat("faults_handled"));
	/* And edu is back on its DMA domain */
	EXPECT_EQ(0, edu_cmd("roundtrip", "1 4096"));
}

/* Paging domains of the guest IOMMU, classic and table */
static long long viommu_paging_domains(void)
{
	return viommu_stat("classic_domains") + viommu_stat("table_domains");
}

/*
 * With BYPASS_CONFIG the identity domain is the device's bypass: edu's DMA
 * domain goes and no paging domain replaces it. Without it, an
 * identity-mapped classic domain takes the DMA domain's place.
 * No DMA in it: edu's 28-bit DMA range has no RAM (guest_blk_test has DMA
 * through an identity domain).
 */
TEST_F(edu, identity_domain)
{
	unsigned long long dma, phys;
	long long classic0, domains0;
	char info[128], type[32];
	int bypass;

	bypass = viommu_has_feature(VIRTIO_IOMMU_F_BYPASS_CONFIG);
	ASSERT_LE(0, bypass);
	TH_LOG("BYPASS_CONFIG %snegotiated", bypass ? "" : "not ");
	classic0 = viommu_stat("classic_domains");
	domains0 = viommu_paging_domains();
	ASSERT_LE(1, domains0);

	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ASSERT_EQ(0, pci_set_group_type(self->bdf, "identity"));
	ASSERT_EQ(0, edu_bind(self->bdf, true));
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_STREQ("identity", type);
	ASSERT_EQ(0, edu_read("map_info", info, sizeof(info)));
	TH_LOG("identity: %s", info);
	ASSERT_EQ(0, kv_get(info, "dma", &dma));
	ASSERT_EQ(0, kv_get(info, "phys", &phys));
	EXPECT_EQ(phys, dma);
	TH_LOG("classic_domains %lld -> %lld", classic0,
	       viommu_stat("classic_domains"));
	if (bypass) {
		EXPECT_EQ(domains0 - 1, viommu_paging_domains());
	} else {
		EXPECT_EQ(domains0, viommu_paging_domains());
		EXPECT_LE(1, viommu_stat("classic_domains"));
	}

	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ASSERT_EQ(0, pci_set_group_type(self->bdf, "DMA"));
	ASSERT_EQ(0, edu_bind(self->bdf, true));
	ASSERT_EQ(0, edu_read("map_info", info, sizeof(info)));
	TH_LOG("DMA: %s", info);
	ASSERT_EQ(0, kv_get(info, "dma", &dma));
	ASSERT_EQ(0, kv_get(info, "phys", &phys));
	EXPECT_NE(phys, dma);
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
	EXPECT_EQ(domains0, viommu_paging_domains());
}

/*
 * A completion the device wrote short, or with a status no spec defines, is
 * an error for the request it completes (a MAP then fails the mapping, in
 * classic mode), is counted, and leaves the driver and device usable.
 */
TEST_F(edu, malformed_responses_handled)
{
	static const char * const knobs[] = { "inject_short",
					       "inject_bad_status" };
	char mode[32];
	unsigned int i;

	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	for (i = 0; i < 2; i++) {
		long long bad0 = viommu_stat("bad_responses");
		int ret;

		ASSERT_EQ(0, viommu_knob(knobs[i], 1));
		ret = edu_cmd("roundtrip", "1 4096");
		/* Table mode: the victim is an INVALIDATE, nobody's error */
		if (!strcmp(mode, "classic"))
			EXPECT_NE(0, ret) TH_LOG("%s: MAP did not fail", knobs[i]);
		if (i == 0)
			EXPECT_EQ(bad0 + 1, viommu_stat("bad_responses"));
		EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
	}
}

/*
 * Invalidating must not depend on memory allocation: with the allocation of
 * every UNMAP/INVALIDATE request failing, an unmap still reaches the device
 * (table mode: the INVALIDATE goes through a preallocated request; classic:
 * the UNMAP falls back to it), so the use-after-unmap reads nothing stale.
 */
TEST_F(edu, stale_caught_despite_alloc_failure)
{
	unsigned long long stale;
	char type[32], res[256];
	int ret;

	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	if (strcmp(type, "DMA"))
		SKIP(return, "lazy (%s) domain: unmap is deferred by design", type);

	ASSERT_EQ(0, viommu_knob("fail_inval_alloc", 16));
	ret = edu_cmd("stale", "small");
	ASSERT_EQ(0, viommu_knob("fail_inval_alloc", 0));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("allocations failing: %s", res);
	ASSERT_EQ(0, kv_get(res, "stale", &stale));
	EXPECT_EQ(0, stale);
	EXPECT_EQ(0, viommu_stat("broken"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

/*
 * Lazy (DMA-FQ) domain: after an unmap, the flush queue invalidates before
 * it frees the IOVA, so a new buffer mapped at the same IOVA is what the
 * device reads. edu_dma retries the new mapping on every CPU (the IOVA
 * caches are per CPU); if the IOVA never comes back, there is nothing to
 * check.
 */
static void lazy_stale(struct __test_metadata *_metadata, const char *bdf,
		       const char *knob, unsigned int n,
		       unsigned long long want)
{
	unsigned long long reused, stale;
	char res[256];
	int ret;

	ASSERT_EQ(0, edu_set_domain_type(bdf, "DMA-FQ"));
	/* The flush queue's timer frees on the CPU it was armed on */
	write_str("/proc/sys/kernel/timer_migration", "0");
	if (knob)
		ASSERT_EQ(0, viommu_knob(knob, n));
	ret = edu_cmd("lazy_stale", "1");
	if (knob)
		viommu_knob(knob, 0);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	TH_LOG("%s=%u: %s", knob ?: "no knob", n, res);
	ASSERT_EQ(0, kv_get(res, "reused", &reused));
	if (!reused)
		SKIP(return, "the old IOVA was not handed out again");
	ASSERT_EQ(0, kv_get(res, "stale", &stale));
	EXPECT_EQ(want, stale);
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

TEST_F(edu, lazy_reused_iova_not_stale)
{
	lazy_stale(_metadata, self->bdf, NULL, 0, 0);
}

/*
 * The same with the flush queue's invalidation dropped (table mode: the
 * classic device refuses a MAP over the stale one): proves that the check
 * sees a stale translation when there is one.
 */
TEST_F(edu, lazy_stale_seen_without_invalidation)
{
	char mode[32];

	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	if (strcmp(mode, "table") || viommu_stat("table_domains") < 1)
		SKIP(return, "classic mode: the device refuses the new MAP");
	lazy_stale(_metadata, self->bdf, "skip_invalidations", 1, 1);
}

TEST_F(edu, lazy_not_stale_despite_alloc_failure)
{
	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	lazy_stale(_metadata, self->bdf, "fail_inval_alloc", 16, 0);
	EXPECT_EQ(0, viommu_stat("broken"));
}

/*
 * An attach that fails after the device moved the endpoint (fail_attach:
 * the device did it, the driver sees DEVERR) must put the endpoint back in
 * its domain: the core keeps the old domain (here edu's DMA domain, the
 * attach being to the identity domain) and frees the new one. DMA then
 * works through the old domain, not through a freed table or a domain the
 * driver no longer knows. @after: attaches that go through first (1: the
 * second ID of an endpoint with two fails, the first one having moved).
 * Returns 1 if the switch went through (nothing failed: a single ID).
 */
static int attach_fails(struct __test_metadata *_metadata, const char *bdf,
			unsigned int after)
{
	long long rollbacks0 = viommu_stat("attach_rollbacks");
	char type[32];
	int ret;

	ASSERT_EQ(0, edu_cmd("roundtrip", "2 4096"));
	ASSERT_EQ(0, edu_bind(bdf, false));
	ASSERT_EQ(0, viommu_knob("fail_attach_after", after));
	ASSERT_EQ(0, viommu_knob("fail_attach", 1));
	/* (DMA -> DMA-FQ is done in place, without an attach) */
	ret = pci_set_group_type(bdf, "identity");
	viommu_knob("fail_attach", 0);
	viommu_knob("fail_attach_after", 0);
	ASSERT_EQ(0, edu_bind(bdf, true));
	if (!ret && after)
		return 1;
	EXPECT_NE(0, ret) TH_LOG("the failed attach was not reported");
	ASSERT_EQ(0, pci_group_type(bdf, type, sizeof(type)));
	EXPECT_STREQ("DMA", type);
	TH_LOG("attach_rollbacks %lld -> %lld", rollbacks0,
	       viommu_stat("attach_rollbacks"));
	EXPECT_LT(rollbacks0, viommu_stat("attach_rollbacks"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "4 4096"));
	EXPECT_EQ(0, edu_cmd("stale", "small"));
	return 0;
}

TEST_F(edu, attach_failure_rolled_back)
{
	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	attach_fails(_metadata, self->bdf, 0);
}

/* The same for the second ID of an endpoint with two (a PCI alias) */
TEST_F(edu, attach_failure_second_id_rolled_back)
{
	if (!viommu_has_knobs())
		SKIP(return, "module built without VIOMMU_PGT_TEST=1");
	if (attach_fails(_metadata, self->bdf, 1))
		SKIP(return, "edu has a single ID (no PCI alias)");
}

/* Deferred flush (DMA-FQ): unmaps are invalidated later, in batches */
TEST_F(edu, lazy_domain_roundtrip)
{
	char type[32];

	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ASSERT_EQ(0, pci_set_group_type(self->bdf, "DMA-FQ"));
	ASSERT_EQ(0, edu_bind(self->bdf, true));
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_STREQ("DMA-FQ", type);
	EXPECT_EQ(0, edu_cmd("roundtrip", "8 4096"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "4 1000"));

	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ASSERT_EQ(0, pci_set_group_type(self->bdf, "DMA"));
	ASSERT_EQ(0, edu_bind(self->bdf, true));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

/* Every endpoint pins the module: unloading under live DMA must fail. */
TEST_F(edu, unload_refused_while_busy)
{
	ASSERT_NE(0, run_cmd("rmmod virtio_iommu_pgt 2>/dev/null"));
	ASSERT_TRUE(path_exists("/sys/module/virtio_iommu_pgt"));
	/* The driver cannot be unbound from sysfs either */
	EXPECT_FALSE(path_exists("/sys/bus/virtio/drivers/virtio_iommu_pgt/unbind"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
	/* The test driver itself comes and goes freely */
	ASSERT_EQ(0, run_cmd("rmmod edu_dma"));
	ASSERT_EQ(0, run_cmd("modprobe edu_dma"));
	EXPECT_EQ(0, edu_cmd("roundtrip", "2 4096"));
}

TEST_HARNESS_MAIN
