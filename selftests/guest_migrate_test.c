// SPDX-License-Identifier: GPL-2.0
/*
 * guest_migrate_test [--seconds N] [--classic] [--no-edu]: DMA through the
 * guest IOMMU keeps working while the VM migrates to another QEMU, once or
 * several times (scripts/migrate.sh).
 *
 * For N seconds (default 20) edu round trips (fresh mappings: in table mode
 * the destination must walk the guest's tables) and O_DIRECT reads of the
 * known-pattern virtio-blk disk (its rings stay mapped from before the
 * migration) run in a loop, every byte checked. "# migrate: ready" tells
 * the harness to start migrating; a progress line every second lets it
 * check that DMA ran on each side of each switch. A table-mode domain that
 * came back classic, or without its tables, faults the first DMA after the
 * switch. --classic expects MAP/UNMAP mode (a device without the
 * extension), --no-edu a machine without edu.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_util.h"

#define XFER	(16 * DISK_BLK)

static unsigned int run_seconds = 20;
static const char *want_mode = "table";
static bool use_edu = true;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

FIXTURE(migrate) {
	char bdf[64];
	int fd;
	uint8_t *buf, *ref;
};

FIXTURE_SETUP(migrate)
{
	char mode[32];

	ASSERT_EQ(0, guest_modules_load());
	if (use_edu) {
		ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf,
				      sizeof(self->bdf)));
		ASSERT_TRUE(path_exists(EDU_DEBUGFS "/roundtrip"));
	}
	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	ASSERT_STREQ(want_mode, mode);
	self->fd = disk_open(O_RDONLY | O_DIRECT);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/vda: %s", strerror(errno));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, DISK_BLK, XFER));
	ASSERT_EQ(0, posix_memalign((void **)&self->ref, DISK_BLK, XFER));
}

FIXTURE_TEARDOWN(migrate)
{
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
	free(self->ref);
}

/* One edu round trip of 2 transfers, checked; 0 if it went through. */
static int edu_step(void)
{
	char res[256];

	if (edu_cmd("roundtrip", "2 4096"))
		return -1;
	if (edu_read("result", res, sizeof(res)))
		return -1;
	return edu_roundtrip_translated(res, 2);
}

/* XFER bytes from a pseudo-random block of the disk, checked against @ref. */
static int blk_step(int fd, uint8_t *buf, uint8_t *ref, unsigned int seq)
{
	uint32_t first = (seq * 2654435761u) % (DISK_NBLK - XFER / DISK_BLK);
	uint32_t k;

	if (pread(fd, buf, XFER, (off_t)first * DISK_BLK) != XFER)
		return -1;
	for (k = 0; k < XFER / DISK_BLK; k++)
		disk_block(ref + k * DISK_BLK, first + k);
	return memcmp(buf, ref, XFER) ? -1 : 0;
}

TEST_F_TIMEOUT(migrate, dma_across_migration, 600)
{
	double start = now_s(), next = start + 1;
	unsigned long trips = 0, reads = 0;
	long long faults = viommu_stat("faults");
	char mode[32];

	ASSERT_LE(0, faults);

	while (now_s() - start < run_seconds) {
		if (use_edu) {
			ASSERT_EQ(0, edu_step())
				TH_LOG("edu round trip %lu", trips);
			trips++;
		}
		ASSERT_EQ(0, blk_step(self->fd, self->buf, self->ref, reads))
			TH_LOG("disk read %lu", reads);
		reads++;
		if (now_s() >= next) {
			/* After a second of DMA checked: migrate now */
			printf("# migrate: %lu round trips, %lu reads\n%s",
			       trips, reads,
			       next == start + 1 ? "# migrate: ready\n" : "");
			fflush(stdout);
			next += 1;
		}
	}
	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	EXPECT_STREQ(want_mode, mode);
	EXPECT_EQ(faults, viommu_stat("faults"));
	printf("# migrate: done, %lu round trips, %lu reads\n", trips, reads);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			run_seconds = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--classic"))
			want_mode = "classic";
		else if (!strcmp(argv[i], "--no-edu"))
			use_edu = false;
		else
			break;
	}
	argv[i - 1] = argv[0];
	return test_harness_run(argc - i + 1, argv + i - 1);
}
