/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the host_* selftests of /dev/vfio-nest
 * (kselftest_harness.h must be included first).
 */
#ifndef _SELFTESTS_HOST_TEST_H
#define _SELFTESTS_HOST_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arm_lpae_cfg.h"
#include "vfio_nest.h"

/* As in tools/testing/selftests/iommu/iommufd_utils.h. */
#ifndef EXPECT_ERRNO
#define EXPECT_ERRNO(expected_errno, cmd)         \
	({                                        \
		ASSERT_EQ(-1, cmd);               \
		EXPECT_EQ(expected_errno, errno); \
	})
#endif

/* open_vfio_nest - open /dev/vfio-nest, loading the module if needed. */
static inline int open_vfio_nest(void)
{
	int fd = open("/dev/vfio-nest", O_RDWR);

	if (fd < 0 && errno == ENOENT &&
	    system("modprobe vfio_nest 2>/dev/null") == 0)
		fd = open("/dev/vfio-nest", O_RDWR);
	return fd;
}

/*
 * A guest, as far as the SMMU can tell: a buffer of "guest RAM" mapped into
 * the IOAS (stage 2) at @ipa, and an Arm LPAE stage-1 table (4K granule,
 * 39-bit VA, three levels) built inside it, like a guest kernel would.
 */
#define GUEST_PAGE		4096ull
#define GUEST_VA_BITS		39
#define PTE_VALID		(1ull << 0)
#define PTE_TABLE		(1ull << 1)	/* levels 0-2: next table */
#define PTE_PAGE		(1ull << 1)	/* level 3: page */
#define PTE_ATTRINDX(n)		((uint64_t)(n) << 2)
#define PTE_AP_RW_ANY		(1ull << 6)	/* AP[2:1] = 01 */
#define PTE_AP_RO_ANY		(3ull << 6)	/* AP[2:1] = 11 */
#define PTE_SH_IS		(3ull << 8)
#define PTE_AF			(1ull << 10)
#define PTE_NG			(1ull << 11)
#define PTE_ADDR_MASK		0x0000fffffffff000ull

struct guest {
	uint8_t *ram;
	uint64_t ipa;
	size_t size;
	uint64_t next;		/* bump allocator, offset into @ram */
	uint64_t root;		/* IPA of the level-1 table */
};

static inline uint64_t *guest_ptr(struct guest *g, uint64_t ipa)
{
	return (uint64_t *)(g->ram + (ipa - g->ipa));
}

/* guest_alloc_page - a zeroed page of guest RAM; returns its IPA. */
static inline uint64_t guest_alloc_page(struct guest *g)
{
	uint64_t ipa = g->ipa + g->next;

	if (g->next + GUEST_PAGE > g->size)
		return 0;
	g->next += GUEST_PAGE;
	memset(guest_ptr(g, ipa), 0, GUEST_PAGE);
	return ipa;
}

static inline uint64_t guest_new_root(struct guest *g)
{
	g->root = guest_alloc_page(g);
	return g->root;
}

/* guest_pte - the level-3 entry for @va, creating tables on the way. */
static inline uint64_t *guest_pte(struct guest *g, uint64_t va)
{
	uint64_t table = g->root;
	int level;

	for (level = 1; level < 3; level++) {
		unsigned int shift = 12 + 9 * (3 - level);
		uint64_t *pte = guest_ptr(g, table) + ((va >> shift) & 511);

		if (!(*pte & PTE_VALID)) {
			uint64_t next = guest_alloc_page(g);

			if (!next)
				return NULL;
			*pte = next | PTE_VALID | PTE_TABLE;
		}
		table = *pte & PTE_ADDR_MASK;
	}
	return guest_ptr(g, table) + ((va >> 12) & 511);
}

/* guest_map - map the 4K page at @va to guest RAM at @ipa, read-write. */
static inline int guest_map(struct guest *g, uint64_t va, uint64_t ipa)
{
	uint64_t *pte = guest_pte(g, va);

	if (!pte)
		return -ENOMEM;
	*pte = (ipa & PTE_ADDR_MASK) | PTE_VALID | PTE_PAGE |
	       PTE_ATTRINDX(0) | PTE_AP_RW_ANY | PTE_SH_IS | PTE_AF | PTE_NG;
	__sync_synchronize();
	return 0;
}

static inline void guest_unmap(struct guest *g, uint64_t va)
{
	uint64_t *pte = guest_pte(g, va);

	if (pte)
		*pte = 0;
	__sync_synchronize();
}

/* TCR for the table above: TTBR0 only, 4K, inner-shareable WBWA walks. */
#define GUEST_TCR(ips)							\
	(ARM_LPAE_TCR_PREP(T0SZ, 64 - GUEST_VA_BITS) |			\
	 ARM_LPAE_TCR_PREP(IRGN0, ARM_LPAE_TCR_RGN_WBWA) |		\
	 ARM_LPAE_TCR_PREP(ORGN0, ARM_LPAE_TCR_RGN_WBWA) |		\
	 ARM_LPAE_TCR_PREP(SH0, ARM_LPAE_TCR_SH_IS) |			\
	 ARM_LPAE_TCR_PREP(TG0, ARM_LPAE_TCR_TG0_4K) |			\
	 ARM_LPAE_TCR_PREP(EPD1, 1) | ARM_LPAE_TCR_PREP(IPS, ips))
/* MAIR attribute 0: Normal, inner/outer write-back; the rest Device-nGnRnE */
#define GUEST_MAIR		0xffull

#endif /* _SELFTESTS_HOST_TEST_H */
