// SPDX-License-Identifier: GPL-2.0
/*
 * A device that stops answering: the driver waits for a completion at most
 * request_timeout_ms (a module parameter), then says so in one dmesg line,
 * marks the IOMMU broken and fails every later request and mapping at once;
 * no CPU is left spinning with interrupts off. A device that answers
 * INVALIDATE with an error: the driver retries at wider scopes, then marks
 * the IOMMU broken the same way (never only a log line).
 *
 * A request virtqueue that breaks under a request: an error for that
 * request's sender (the attach fails), never the zeroed status read as OK.
 *
 * Fixture variants, chosen in selftests/run.list with -v: "knob" (the
 * module's drop_completions test knob, test builds), "queue" (its
 * break_queue knob), "device_drop" (the patched QEMU's x-inject-drop:
 * viommu-pgt-drop) and "device_error" (x-inject-status on INVALIDATE:
 * viommu-pgt-invalerr). The device variants skip unless the profile
 * injected (nest.inject=1 on the kernel command line: its QEMU has the
 * x-inject properties); run.list excludes (-T) the test that does not apply
 * to the variant. Leaves the IOMMU broken: run it last in its VM.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "guest_util.h"

#define STALL_LINE	"device stopped answering"
#define BROKEN_LINE	"IOMMU disabled:"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether the kernel command line has @word */
static bool cmdline_has(const char *word)
{
	char line[1024];

	return !read_line("/proc/cmdline", line, sizeof(line)) &&
	       strstr(line, word);
}

FIXTURE(stall) {
	char bdf[64];
};

FIXTURE_VARIANT(stall) {
	bool by_device;		/* QEMU x-inject-*, not the knob */
	bool timeout;		/* no answer (else an error status) */
	bool queue;		/* the virtqueue breaks instead */
};

FIXTURE_VARIANT_ADD(stall, knob) {
	.by_device = false,
	.timeout = true,
};

FIXTURE_VARIANT_ADD(stall, queue) {
	.by_device = false,
	.timeout = false,
	.queue = true,
};

FIXTURE_VARIANT_ADD(stall, device_drop) {
	.by_device = true,
	.timeout = true,
};

FIXTURE_VARIANT_ADD(stall, device_error) {
	.by_device = true,
	.timeout = false,
};

FIXTURE_SETUP(stall)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
}

FIXTURE_TEARDOWN(stall)
{
}

/*
 * The request virtqueue breaks right after an ATTACH was added: the attach
 * (a switch to the identity domain) must fail, and the IOMMU is broken.
 */
TEST_F(stall, broken_queue_is_an_error)
{
	char type[32];
	int ret;

	if (!variant->queue)
		SKIP(return, "for the queue variant");
	if (!viommu_has_knobs())
		SKIP(return, "no break_queue knob: built without VIOMMU_PGT_TEST=1");
	ASSERT_EQ(0, edu_cmd("roundtrip", "1 4096"));
	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ASSERT_EQ(0, viommu_knob("break_queue", 1));
	ret = pci_set_group_type(self->bdf, "identity");
	viommu_knob("break_queue", 0);
	EXPECT_NE(0, ret) TH_LOG("an attach on a broken queue reported success");
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_STREQ("DMA", type);
	ASSERT_EQ(0, edu_bind(self->bdf, true));
	EXPECT_EQ(1, viommu_stat("broken"));
	EXPECT_EQ(1, klog_count("request virtqueue broken"));
}

/*
 * Round trips until the device stops answering (at once with the knob; at
 * the x-inject-after'th request of the injected type with QEMU): the failing
 * one returns an error within a few timeouts, not never.
 */
TEST_F(stall, no_answer_is_an_error_within_the_timeout)
{
	int ret = 0, i;
	double t0;

	/* (A module without the parameter waits forever: the old bug) */
	EXPECT_EQ(0, write_str(VIOMMU_PARAMS "/request_timeout_ms", "300"));
	if (variant->queue)
		SKIP(return, "not for the queue variant");
	if (viommu_stat("broken"))
		SKIP(return, "the IOMMU is broken already");
	if (variant->by_device && !cmdline_has("nest.inject=1"))
		SKIP(return, "no injection: this QEMU has no x-inject properties");
	if (!variant->by_device) {
		if (!viommu_has_knobs())
			SKIP(return,
			     "no drop_completions knob: built without VIOMMU_PGT_TEST=1");
		ASSERT_EQ(0, viommu_knob("drop_completions", 1));
	}
	/* The device may answer the first x-inject-after requests */
	t0 = now();
	for (i = 0; i < 300 && !ret; i++)
		ret = edu_cmd("roundtrip", "1 4096");
	TH_LOG("round trip %d failed with %d after %.2f s", i, ret,
	       now() - t0);
	if (!ret && variant->by_device)
		SKIP(return, "the device kept answering (no x-inject-drop?)");
	EXPECT_NE(0, ret);
	/* edu takes ~0.1-0.2 s a round trip; the timeout 0.3 s, once */
	EXPECT_GT(variant->by_device ? 120.0 : 30.0, now() - t0);
	EXPECT_EQ(1, viommu_stat("broken"));
	EXPECT_EQ(variant->timeout ? 1 : 0, klog_count(STALL_LINE));
	EXPECT_EQ(1, klog_count(BROKEN_LINE));
	if (!variant->timeout && viommu_stat("table_domains") > 0)
		EXPECT_LE(2, viommu_stat("inval_escalations"));
}

/* Broken: requests fail at once (an error, never a zeroed "OK" status) */
TEST_F(stall, broken_fails_fast)
{
	double t0 = now();
	char type[32];
	int ret;

	if (viommu_stat("broken") != 1)
		SKIP(return, "the IOMMU is not broken");
	EXPECT_NE(0, edu_cmd("roundtrip", "1 4096"));
	/* An attach is a request too: the domain switch must fail */
	ASSERT_EQ(0, edu_bind(self->bdf, false));
	ret = pci_set_group_type(self->bdf, "identity");
	edu_bind(self->bdf, true);
	EXPECT_NE(0, ret);
	ASSERT_EQ(0, pci_group_type(self->bdf, type, sizeof(type)));
	EXPECT_STREQ("DMA", type);
	EXPECT_GT(5.0, now() - t0);
	/* Still one line: the broken state is said once */
	EXPECT_EQ(variant->timeout ? 1 : 0, klog_count(STALL_LINE));
	EXPECT_EQ(1, klog_count(BROKEN_LINE));
}

TEST_HARNESS_MAIN
