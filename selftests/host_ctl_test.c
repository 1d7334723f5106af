// SPDX-License-Identifier: GPL-2.0
/*
 * host_ctl_test: vfio-nest-ctl, the uAPI CLI, does what its --help says.
 * Runs the tool next to this program and checks exit codes and output.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "host_test.h"

/* run_ctl - run vfio-nest-ctl @args; its output in @out, its exit status. */
static int run_ctl(const char *args, char *out, size_t len)
{
	char self[PATH_MAX], cmd[PATH_MAX + 256];
	size_t n = 0;
	ssize_t got;
	FILE *p;
	int st;

	got = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (got < 0)
		return -1;
	self[got] = '\0';
	snprintf(cmd, sizeof(cmd), "%s/vfio-nest-ctl %s 2>&1", dirname(self),
		 args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (n + 1 < len && (got = fread(out + n, 1, len - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

FIXTURE(ctl) {
	char out[8192];
};

FIXTURE_SETUP(ctl)
{
	struct vmm v;
	int ret = vmm_setup(&v);

	vmm_teardown(&v);
	if (skip_reason(ret))
		SKIP(return, "%s", skip_reason(ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(ctl)
{
}

TEST_F(ctl, help)
{
	ASSERT_EQ(0, run_ctl("--help", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "Usage: vfio-nest-ctl"));
	ASSERT_EQ(2, run_ctl("", self->out, sizeof(self->out)));
	ASSERT_EQ(2, run_ctl("frobnicate", self->out, sizeof(self->out)));
	ASSERT_EQ(2, run_ctl("--bogus info", self->out, sizeof(self->out)));
}

TEST_F(ctl, info)
{
	ASSERT_EQ(0, run_ctl("info", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "arm-lpae-s1"));
	ASSERT_NE(NULL, strstr(self->out, "nesting"));
}

TEST_F(ctl, attach_dma)
{
	ASSERT_EQ(0, run_ctl("attach --dma", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "dma round trip through va 0x100000: ok"));
	ASSERT_EQ(0, run_ctl("attach --asid 300 --va 0x7000000 --dma",
			     self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, ": ok"));
	ASSERT_EQ(1, run_ctl("attach --asid 70000", self->out,
			     sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "field asid"));
}

/* The HWPT form: the tool allocates the stage 2 and hands it over. */
TEST_F(ctl, attach_s2_hwpt)
{
	ASSERT_EQ(0, run_ctl("--help", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "--s2-hwpt"));
	ASSERT_EQ(0, run_ctl("info", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "s2-hwpt"));
	ASSERT_EQ(0, run_ctl("attach --s2-hwpt --dma", self->out,
			     sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "stage 2 hwpt"));
	ASSERT_NE(NULL, strstr(self->out, "dma round trip through va 0x100000: ok"));
	ASSERT_EQ(0, run_ctl("invalidate --s2-hwpt --scope va --pages 2",
			     self->out, sizeof(self->out)));
	ASSERT_EQ(1, run_ctl("attach --s2-hwpt --asid 70000", self->out,
			     sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "field asid"));
}

TEST_F(ctl, invalidate)
{
	ASSERT_EQ(0, run_ctl("invalidate --scope va --pages 3 --leaf",
			     self->out, sizeof(self->out)));
	ASSERT_EQ(0, run_ctl("invalidate --scope asid --config", self->out,
			     sizeof(self->out)));
	ASSERT_EQ(0, run_ctl("invalidate --scope all", self->out,
			     sizeof(self->out)));
	ASSERT_EQ(1, run_ctl("invalidate --scope 9", self->out,
			     sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "field entry.scope"));
	ASSERT_EQ(1, run_ctl("invalidate --granule 13", self->out,
			     sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "field entry.granule_shift"));
}

TEST_F(ctl, faults)
{
	ASSERT_EQ(0, run_ctl("faults", self->out, sizeof(self->out)));
	ASSERT_NE(NULL, strstr(self->out, "translation write iova 0x200000"));
}

TEST_HARNESS_MAIN
