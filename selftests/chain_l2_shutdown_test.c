// SPDX-License-Identifier: GPL-2.0
/*
 * Whole chain, run in L2 as the last program: leave edu doing DMA through the
 * guest module when L2 powers off. A detached child keeps mapping, running
 * and unmapping edu transfers until the VM dies, so the inner QEMU exits with
 * live mappings in its iommufd IOAS and a transfer possibly in flight. L1
 * checks afterwards that this left it clean (scripts/chain/l1.sh after:
 * no SMMU events, the device reusable, no leak).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

TEST(dma_running_at_poweroff)
{
	unsigned long long ok = 0;
	char res[256];
	pid_t pid;
	int fd;

	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, edu_cmd("roundtrip", "1 4096"));
	ASSERT_EQ(0, edu_read("result", res, sizeof(res)));
	ASSERT_EQ(0, kv_get(res, "ok", &ok));
	ASSERT_EQ(1, ok);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Out of the test's session and pipes: vm-init must not wait */
		setsid();
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		for (;;)
			edu_cmd("roundtrip", "1 4096");
	}
	/* Let it get into its transfers (each takes 1-100 ms) */
	usleep(300000);
	EXPECT_EQ(0, kill(pid, 0));
	TH_LOG("DMA loop pid %d left running for the poweroff", pid);
}

TEST_HARNESS_MAIN
