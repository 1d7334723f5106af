// SPDX-License-Identifier: GPL-2.0
/*
 * edu_smmu_test: edu DMA through the in-tree arm-smmu-v3, driven from
 * userspace by VFIO cdev + iommufd, with no project module involved. This is
 * the baseline every nested test builds on: if it fails, the VM, VFIO or the
 * SMMU model is broken, not vfio-nest.
 *
 * Variants: the IOAS's automatic paging domain (arm-smmu-v3 picks stage 1)
 * and an explicit NEST_PARENT HWPT (stage 2, what a VMM nests under).
 */
#include <stdlib.h>

#include "kselftest_harness.h"
#include "vfio_edu.h"

#define BUF_SIZE	(64 * 1024)
#define IOVA_A		0x00100000ull	/* clear of the SMMU's MSI window */
#define IOVA_B		0x00200000ull
#define IOVA_HOLE	0x00400000ull	/* never mapped */
#define XFER		EDU_DMA_BUF_SIZE

FIXTURE(edu_smmu) {
	struct vfio_edu edu;
	uint8_t *src;
	uint8_t *dst;
	__u32 pt_id;
	__u32 hwpt_id;
};

FIXTURE_VARIANT(edu_smmu) {
	bool nest_parent;
};

FIXTURE_VARIANT_ADD(edu_smmu, ioas_stage1) {
	.nest_parent = false,
};

FIXTURE_VARIANT_ADD(edu_smmu, hwpt_nest_parent) {
	.nest_parent = true,
};

static uint8_t *alloc_buf(void)
{
	void *p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* How many leading bytes of @p are zero. */
static size_t zero_prefix(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len && !p[i]; i++)
		;
	return i;
}

FIXTURE_SETUP(edu_smmu)
{
	int ret;

	ret = vfio_edu_open(&self->edu);
	if (ret == -ENODEV || ret == -ENOENT)
		SKIP(return, "no edu device bound to vfio-pci: %s",
		     strerror(-ret));
	ASSERT_EQ(0, ret);
	self->src = alloc_buf();
	self->dst = alloc_buf();
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);

	ASSERT_EQ(0, vfio_edu_ioas_map(&self->edu, self->edu.ioas_id,
				       self->src, BUF_SIZE, IOVA_A));
	ASSERT_EQ(0, vfio_edu_ioas_map(&self->edu, self->edu.ioas_id,
				       self->dst, BUF_SIZE, IOVA_B));
	self->pt_id = self->edu.ioas_id;
	if (variant->nest_parent) {
		ASSERT_EQ(0, vfio_edu_hwpt_alloc(&self->edu, self->edu.ioas_id,
						 IOMMU_HWPT_ALLOC_NEST_PARENT,
						 &self->hwpt_id));
		self->pt_id = self->hwpt_id;
	}
	ASSERT_EQ(0, vfio_edu_attach(&self->edu, self->pt_id));
}

FIXTURE_TEARDOWN(edu_smmu)
{
	if (self->edu.device_fd > 0)
		vfio_edu_close(&self->edu);
	if (self->src)
		munmap(self->src, BUF_SIZE);
	if (self->dst)
		munmap(self->dst, BUF_SIZE);
}

TEST_F(edu_smmu, round_trip)
{
	fill(self->src, XFER, 0x5a);
	memset(self->dst, 0, XFER);

	ASSERT_EQ(0, vfio_edu_dma_to_device(&self->edu, IOVA_A, 0, XFER));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_B, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
}

TEST_F(edu_smmu, round_trip_offsets)
{
	/* A short transfer at an unaligned device offset and IOVA. */
	fill(self->src, BUF_SIZE, 0x11);
	memset(self->dst, 0xee, BUF_SIZE);

	ASSERT_EQ(0, vfio_edu_dma_to_device(&self->edu, IOVA_A + 0x3003,
					    0x123, 200));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0x123, IOVA_B + 0x5005,
					 200));
	ASSERT_EQ(0, memcmp(self->src + 0x3003, self->dst + 0x5005, 200));
	ASSERT_EQ(0xee, self->dst[0x5004]);
	ASSERT_EQ(0xee, self->dst[0x5005 + 200]);
}

TEST_F(edu_smmu, unmapped_iova_not_written)
{
	fill(self->src, XFER, 0xa5);
	memset(self->dst, 0, BUF_SIZE);
	ASSERT_EQ(0, vfio_edu_dma_to_device(&self->edu, IOVA_A, 0, XFER));

	/* Never mapped: the SMMU must abort, edu still completes. */
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_HOLE, XFER));

	/* Was mapped, now unmapped: the buffer behind it must stay intact. */
	ASSERT_EQ(0, vfio_edu_ioas_unmap(&self->edu, self->edu.ioas_id,
					 IOVA_B, BUF_SIZE));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_B, XFER));
	ASSERT_EQ(BUF_SIZE, zero_prefix(self->dst, BUF_SIZE));

	/* Mapped again: the same DMA lands, so the device is still alive. */
	ASSERT_EQ(0, vfio_edu_ioas_map(&self->edu, self->edu.ioas_id,
				       self->dst, BUF_SIZE, IOVA_B));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_B, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
}

TEST_F(edu_smmu, detach_blocks_dma)
{
	fill(self->src, XFER, 0x3c);
	memset(self->dst, 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_device(&self->edu, IOVA_A, 0, XFER));
	ASSERT_EQ(0, vfio_edu_detach(&self->edu));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_B, XFER));
	ASSERT_EQ(0, self->dst[0]);
	ASSERT_EQ(0, self->dst[XFER - 1]);
	ASSERT_EQ(0, vfio_edu_attach(&self->edu, self->pt_id));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&self->edu, 0, IOVA_B, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
}

TEST_F(edu_smmu, dma_args_checked)
{
	EXPECT_EQ(-EINVAL, vfio_edu_dma(&self->edu, IOVA_A, 0, 0, false));
	EXPECT_EQ(-EINVAL, vfio_edu_dma(&self->edu, IOVA_A, 1, XFER, false));
	EXPECT_EQ(-EINVAL, vfio_edu_dma(&self->edu, EDU_DMA_MASK, 0, 2, false));
}

TEST_HARNESS_MAIN
