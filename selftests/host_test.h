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

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arm_lpae_cfg.h"
#include "vfio_edu.h"
#include "vfio_nest.h"

/* As in tools/testing/selftests/iommu/iommufd_utils.h. */
#ifndef EXPECT_ERRNO
#define EXPECT_ERRNO(expected_errno, cmd)         \
	({                                        \
		ASSERT_EQ(-1, cmd);               \
		EXPECT_EQ(expected_errno, errno); \
	})
#endif

/* open_vfio_nest - open /dev/vfio-nest (which loads the module). */
static inline int open_vfio_nest(void)
{
	return open("/dev/vfio-nest", O_RDWR);
}

/*
 * A guest, as far as the SMMU can tell: a buffer of "guest RAM" mapped into
 * the IOAS (stage 2) at @ipa, and an Arm LPAE stage-1 table built inside it
 * like a guest kernel would: 4K granule with a 39-bit VA (three levels), or
 * 16K/64K with 34/38 bits (two levels).
 *
 * The root table has 512 entries (4K) whatever the granule, and the VAs
 * used stay in the first 4K of each table: QEMU 10.0's nested walker
 * translates a table's base IPA through stage 2 once and indexes the
 * physical address from there (aligned down to the table size), which is
 * only right while a table fits in one stage-2 page, 4K here.
 */
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
	uint64_t root;		/* IPA of the root table */
	unsigned int gshift;	/* log2 of the translation granule */
};

static inline unsigned int guest_levels(const struct guest *g)
{
	return g->gshift == 12 ? 3 : 2;
}

static inline unsigned int guest_va_bits(const struct guest *g)
{
	return g->gshift + (guest_levels(g) - 1) * (g->gshift - 3) + 9;
}

static inline uint64_t guest_page_size(const struct guest *g)
{
	return 1ull << g->gshift;
}

static inline uint64_t *guest_table(struct guest *g, uint64_t ipa)
{
	return (uint64_t *)(g->ram + (ipa - g->ipa));
}

static inline uint8_t *guest_bytes(struct guest *g, uint64_t ipa)
{
	return g->ram + (ipa - g->ipa);
}

/* guest_alloc_page - a zeroed granule of guest RAM; returns its IPA. */
static inline uint64_t guest_alloc_page(struct guest *g)
{
	uint64_t ipa = g->ipa + g->next;

	if (g->next + guest_page_size(g) > g->size)
		return 0;
	g->next += guest_page_size(g);
	memset(guest_table(g, ipa), 0, guest_page_size(g));
	return ipa;
}

static inline uint64_t guest_new_root(struct guest *g)
{
	g->root = guest_alloc_page(g);
	return g->root;
}

/* guest_pte - the last-level entry for @va, creating tables on the way. */
static inline uint64_t *guest_pte(struct guest *g, uint64_t va)
{
	unsigned int stride = g->gshift - 3, levels = guest_levels(g);
	uint64_t idx_mask = (1ull << stride) - 1;
	uint64_t table = g->root;
	unsigned int l;

	for (l = 0; l + 1 < levels; l++) {
		unsigned int shift = g->gshift + stride * (levels - 1 - l);
		uint64_t *pte = guest_table(g, table) + ((va >> shift) &
							 idx_mask);

		if (!(*pte & PTE_VALID)) {
			uint64_t next = guest_alloc_page(g);

			if (!next)
				return NULL;
			*pte = next | PTE_VALID | PTE_TABLE;
		}
		table = *pte & PTE_ADDR_MASK;
	}
	return guest_table(g, table) + ((va >> g->gshift) & idx_mask);
}

/* guest_map - map the page at @va to guest RAM at @ipa, read-write. */
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

/* TCR for the table above: TTBR0 only, inner-shareable WBWA walks. */
static inline uint64_t guest_tcr(const struct guest *g, int ips)
{
	return ARM_LPAE_TCR_PREP(T0SZ, 64 - guest_va_bits(g)) |
	       ARM_LPAE_TCR_PREP(IRGN0, ARM_LPAE_TCR_RGN_WBWA) |
	       ARM_LPAE_TCR_PREP(ORGN0, ARM_LPAE_TCR_RGN_WBWA) |
	       ARM_LPAE_TCR_PREP(SH0, ARM_LPAE_TCR_SH_IS) |
	       ARM_LPAE_TCR_PREP(TG0, arm_lpae_tg0_from_shift(g->gshift)) |
	       ARM_LPAE_TCR_PREP(EPD1, 1) | ARM_LPAE_TCR_PREP(IPS, ips);
}

/* MAIR attribute 0: Normal, inner/outer write-back; the rest Device-nGnRnE */
#define GUEST_MAIR		0xffull

/*
 * A VMM in a test: edu through VFIO cdev + iommufd, guest RAM as its stage 2,
 * a guest stage-1 table in it, and /dev/vfio-nest.
 */
#define GUEST_IPA	0x04000000ull	/* below edu's 28-bit DMA mask */
#define GUEST_SIZE	(4ull << 20)
#define HOST_IPA	0x03000000ull	/* the VMM keeps it free for us */
#define S2_HOLE_IPA	0x05000000ull	/* not in the stage 2 */
#define VA_SRC		0x00100000ull
#define VA_DST		0x00200000ull
#define VA_STALE	0x00300000ull
#define VA_HOLE		0x00500000ull
#define VA_S2_HOLE	0x00600000ull
#define XFER		EDU_DMA_BUF_SIZE
#define ASID		1

struct vmm {
	struct vfio_edu edu;
	struct guest g;
	int fd;				/* /dev/vfio-nest */
	struct vfio_nest_info info;
	uint64_t p_src, p_dst, p_a, p_b;
};

static inline void fill(void *p, size_t len, unsigned int seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

static inline int ips_for(const struct vfio_nest_info *info)
{
	return arm_lpae_ips_from_bits(info->out_oas);
}

static inline struct vfio_nest_attach_table attach_args(struct vmm *v, uint32_t asid)
{
	struct vfio_nest_attach_table at = {
		.size = sizeof(at),
		.device_fd = v->edu.device_fd,
		.iommufd = v->edu.iommufd,
		.dev_id = v->edu.dev_id,
		.s2_pt_id = v->edu.ioas_id,
		.host_ipa = HOST_IPA,
		.format = VFIO_NEST_FORMAT_ARM_LPAE_S1,
		.asid = asid,
		.tcr = guest_tcr(&v->g, ips_for(&v->info)),
		.ttbr0 = v->g.root,
		.mair = GUEST_MAIR,
	};

	return at;
}

static inline int attach_table(struct vmm *v, uint32_t asid)
{
	struct vfio_nest_attach_table at = attach_args(v, asid);

	return ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at);
}

/* The HWPT form: nest over a stage 2 the VMM allocated itself. */
static inline int attach_table_hwpt(struct vmm *v, uint32_t asid,
				    uint32_t s2_hwpt_id)
{
	struct vfio_nest_attach_table at = attach_args(v, asid);

	at.s2_hwpt_id = s2_hwpt_id;
	return ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at);
}

static inline int detach_table(struct vmm *v, uint32_t flags)
{
	struct vfio_nest_detach_table dt = {
		.size = sizeof(dt),
		.flags = flags,
		.device_fd = v->edu.device_fd,
	};

	return ioctl(v->fd, VFIO_NEST_DETACH_TABLE, &dt);
}

static inline int invalidate(struct vmm *v, struct vfio_nest_inv_entry *e,
			     uint32_t *num)
{
	struct vfio_nest_invalidate inv = {
		.size = sizeof(inv),
		.device_fd = v->edu.device_fd,
		.entry_len = sizeof(*e),
		.entry_num = *num,
		.entries_uptr = (uintptr_t)e,
	};
	int ret = ioctl(v->fd, VFIO_NEST_INVALIDATE, &inv);

	*num = inv.entry_num;
	return ret;
}

/* Load @seed's pattern into edu's buffer through VA_SRC. */
static inline int load_device(struct vmm *v, unsigned int seed)
{
	fill(guest_bytes(&v->g, v->p_src), XFER, seed);
	return vfio_edu_dma_to_device(&v->edu, VA_SRC, 0, XFER);
}

static inline bool holds(struct vmm *v, uint64_t ipa, unsigned int seed)
{
	uint8_t want[XFER];

	fill(want, XFER, seed);
	return !memcmp(guest_bytes(&v->g, ipa), want, XFER);
}

/* Wait up to @ms for a fault record; returns how many were read. */
static inline int read_faults(int fd, struct vfio_nest_fault *f, int max, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	n = read(fd, f, max * sizeof(*f));
	return n < 0 ? -errno : (int)(n / sizeof(*f));
}

/*
 * guest_layout - a fresh root table in the guest RAM, the four data pages
 * (src, dst, a, b) and VA_SRC/VA_DST mapped to the first two.
 */
static inline int guest_layout(struct vmm *v)
{
	if (!guest_new_root(&v->g))
		return -ENOMEM;
	v->p_src = guest_alloc_page(&v->g);
	v->p_dst = guest_alloc_page(&v->g);
	v->p_a = guest_alloc_page(&v->g);
	v->p_b = guest_alloc_page(&v->g);
	if (guest_map(&v->g, VA_SRC, v->p_src) ||
	    guest_map(&v->g, VA_DST, v->p_dst))
		return -ENOMEM;
	return 0;
}

/* vmm_setup_granule - the VMM with a guest table of granule 1 << @gshift. */
static inline int vmm_setup_granule(struct vmm *v, unsigned int gshift)
{
	struct vfio_nest_info *info = &v->info;
	int ret;

	memset(v, 0, sizeof(*v));
	v->edu.device_fd = -1;
	v->edu.iommufd = -1;
	v->fd = open_vfio_nest();
	if (v->fd < 0)
		return -ENOENT;
	ret = vfio_edu_open(&v->edu);
	if (ret)
		return ret;
	info->size = sizeof(*info);
	info->iommufd = v->edu.iommufd;
	info->dev_id = v->edu.dev_id;
	if (ioctl(v->fd, VFIO_NEST_GET_INFO, info))
		return -errno;
	if (!(info->out_caps & VFIO_NEST_CAP_NESTING))
		return -EOPNOTSUPP;

	if (!(info->out_granules & (1u << gshift)))
		return -EPROTONOSUPPORT;
	v->g.size = GUEST_SIZE;
	v->g.ipa = GUEST_IPA;
	v->g.gshift = gshift;
	v->g.ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->g.ram == MAP_FAILED)
		return -ENOMEM;
	ret = vfio_edu_ioas_map(&v->edu, v->edu.ioas_id, v->g.ram, GUEST_SIZE,
				GUEST_IPA);
	if (ret)
		return ret;
	return guest_layout(v);
}

static inline int vmm_setup(struct vmm *v)
{
	return vmm_setup_granule(v, 12);
}

static inline void vmm_teardown(struct vmm *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	if (v->edu.device_fd >= 0 || v->edu.iommufd >= 0)
		vfio_edu_close(&v->edu);
	if (v->g.ram && v->g.ram != MAP_FAILED)
		munmap(v->g.ram, GUEST_SIZE);
	v->g.ram = NULL;
}

/* Why a vmm_setup() result means "skip", or NULL if it does not. */
static inline const char *skip_reason(int ret)
{
	if (ret == -ENOENT || ret == -ENODEV)
		return "no /dev/vfio-nest or no edu device";
	if (ret == -EOPNOTSUPP)
		return "SMMU cannot nest (IDR3.FWB clear: stock QEMU)";
	if (ret == -EPROTONOSUPPORT)
		return "SMMU lacks this translation granule";
	return NULL;
}

#endif /* _SELFTESTS_HOST_TEST_H */
