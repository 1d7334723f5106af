// SPDX-License-Identifier: GPL-2.0
/*
 * Shared-table domains: the domain's mappings live in an io-pgtable-arm
 * ARM_64_LPAE_S1 table that the guest owns and the device walks. map and
 * unmap only write memory; the device hears about changes through INVALIDATE
 * requests, batched from the iotlb gather (leaf, by VA range), the table walk
 * flush (non-leaf, synchronous, before table pages are freed) and
 * flush_iotlb_all (whole ASID, used by the flush queue of lazy DMA domains).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "viommu.h"

/* One granule and the block sizes io-pgtable-arm builds with it */
static unsigned long viommu_granule_pgsizes(unsigned int shift)
{
	switch (shift) {
	case 12:
		return SZ_4K | SZ_2M | SZ_1G;
	case 14:
		return SZ_16K | SZ_32M;
	case 16:
		return SZ_64K | SZ_512M;
	default:
		return 0;
	}
}

/* The CPU's page size if the device walks it, else the largest below it */
static unsigned int viommu_pick_granule(u32 granules)
{
	u32 usable = granules & (ARM_LPAE_GRANULE_4K | ARM_LPAE_GRANULE_16K |
				 ARM_LPAE_GRANULE_64K) & (PAGE_SIZE | (PAGE_SIZE - 1));

	return usable ? __fls(usable) : 0;
}

/* The configuration the device is handed, in the protocol's register form */
static void viommu_table_cfg(struct viommu_domain *vdomain,
			     struct arm_lpae_cfg *cfg)
{
	struct io_pgtable_cfg *pcfg = &vdomain->pgtbl_cfg;
	typeof(pcfg->arm_lpae_s1_cfg.tcr) *tcr = &pcfg->arm_lpae_s1_cfg.tcr;

	*cfg = (struct arm_lpae_cfg) {
		.tcr	= ARM_LPAE_TCR_PREP(T0SZ, tcr->tsz) |
			  ARM_LPAE_TCR_PREP(IRGN0, tcr->irgn) |
			  ARM_LPAE_TCR_PREP(ORGN0, tcr->orgn) |
			  ARM_LPAE_TCR_PREP(SH0, tcr->sh) |
			  ARM_LPAE_TCR_PREP(TG0, tcr->tg) |
			  /* No upper VA range: TTBR1 walks are disabled */
			  ARM_LPAE_TCR_PREP(EPD1, 1) |
			  ARM_LPAE_TCR_PREP(IPS, tcr->ips) |
			  ARM_LPAE_TCR_PREP(AS, vdomain->caps.asid_bits >= 16),
		.ttbr0	= pcfg->arm_lpae_s1_cfg.ttbr,
		.mair	= pcfg->arm_lpae_s1_cfg.mair,
		.asid	= vdomain->asid,
	};
}

static int viommu_table_check(struct viommu_domain *vdomain,
			      const struct arm_lpae_caps *caps,
			      struct device *dev)
{
	struct arm_lpae_cfg cfg;
	const char *field;
	int ret;

	viommu_table_cfg(vdomain, &cfg);
	ret = arm_lpae_cfg_validate(caps, &cfg, 0, &field);
	if (ret)
		dev_info(dev, "table configuration refused by the probed format: %s (%d)\n",
			 field, ret);
	return ret;
}

static int viommu_add_inval(struct viommu_domain *vdomain, u8 scope, u32 flags,
			    unsigned long iova, size_t size, size_t granule)
{
	struct viommu_dev *viommu = vdomain->viommu;
	struct virtio_iommu_req_invalidate req = {
		.head.type	= VIRTIO_IOMMU_T_INVALIDATE,
		.scope		= scope,
		.flags		= cpu_to_le32(flags),
		.domain		= cpu_to_le32(vdomain->id),
		.asid		= cpu_to_le32(vdomain->asid),
	};
	struct viommu_skipped_inval skipped = {
		.domain_id = vdomain->id,
		.asid = vdomain->asid,
		.start = iova,
		.end = iova + size - 1,
		.table = true,
	};

	if (scope == VIRTIO_IOMMU_INVAL_S_VA) {
		unsigned long start = ALIGN_DOWN(iova, granule);

		req.granule = ilog2(granule);
		req.virt_start = cpu_to_le64(start);
		req.nr_pages = cpu_to_le64(DIV_ROUND_UP(iova + size - start,
							granule));
	}

	if (viommu_skip_invalidation(viommu, &skipped))
		return 0;

	atomic64_inc(&viommu->stats.invalidations);
	return viommu_add_req(viommu, &req, sizeof(req));
}

/* Recovery path of the test knob: the domain may be gone, errors are fine. */
int viommu_table_send_inval_all(struct viommu_dev *viommu, u32 domain_id,
				u32 asid)
{
	struct virtio_iommu_req_invalidate req = {
		.head.type	= VIRTIO_IOMMU_T_INVALIDATE,
		.scope		= VIRTIO_IOMMU_INVAL_S_ASID,
		.domain		= cpu_to_le32(domain_id),
		.asid		= cpu_to_le32(asid),
	};

	atomic64_inc(&viommu->stats.invalidations);
	return viommu_add_req(viommu, &req, sizeof(req));
}

static void viommu_flush_asid(struct viommu_domain *vdomain)
{
	/* Nothing is cached for a domain the device does not know yet. */
	if (!READ_ONCE(vdomain->nr_endpoints))
		return;
	if (!viommu_add_inval(vdomain, VIRTIO_IOMMU_INVAL_S_ASID, 0, 0, 0, 0))
		viommu_sync_req(vdomain->viommu);
}

/* io-pgtable callbacks */

static void viommu_tlb_flush_all(void *cookie)
{
	viommu_flush_asid(cookie);
}

/*
 * Table entries changed (a table was replaced by a block or freed): the walk
 * caches must be clean before io-pgtable frees the table page, so this one
 * is synchronous.
 */
static void viommu_tlb_flush_walk(unsigned long iova, size_t size,
				  size_t granule, void *cookie)
{
	struct viommu_domain *vdomain = cookie;

	if (!READ_ONCE(vdomain->nr_endpoints))
		return;
	if (!viommu_add_inval(vdomain, VIRTIO_IOMMU_INVAL_S_VA, 0, iova, size,
			      granule))
		viommu_sync_req(vdomain->viommu);
}

static void viommu_tlb_add_page(struct iommu_iotlb_gather *gather,
				unsigned long iova, size_t granule,
				void *cookie)
{
	struct viommu_domain *vdomain = cookie;

	iommu_iotlb_gather_add_page(&vdomain->domain, gather, iova, granule);
}

static const struct iommu_flush_ops viommu_flush_ops = {
	.tlb_flush_all	= viommu_tlb_flush_all,
	.tlb_flush_walk	= viommu_tlb_flush_walk,
	.tlb_add_page	= viommu_tlb_add_page,
};

int viommu_table_init(struct viommu_domain *vdomain,
		      struct viommu_endpoint *vdev)
{
	struct viommu_dev *viommu = vdomain->viommu;
	const struct arm_lpae_caps *caps = &vdev->pgtf.caps;
	struct io_pgtable_ops *ops;
	unsigned int shift, asid_bits;
	int asid, ret;

	if (!vdev->pgtf.valid)
		return -EOPNOTSUPP;
	shift = viommu_pick_granule(caps->granules);
	if (!shift)
		return -EOPNOTSUPP;

	asid_bits = caps->asid_bits >= 16 ? 16 : 8;
	if (caps->asid_bits < 8)
		return -EOPNOTSUPP;
	/* ASID 0 stays unused: some hosts reserve it for their own tables */
	asid = ida_alloc_range(&viommu->asids, 1, (1U << asid_bits) - 1,
			       GFP_KERNEL);
	if (asid < 0)
		return asid;

	vdomain->caps = *caps;
	vdomain->asid = asid;
	vdomain->pgtbl_cfg = (struct io_pgtable_cfg) {
		.pgsize_bitmap	= viommu_granule_pgsizes(shift),
		.ias		= min(caps->ias, ARM_LPAE_MAX_IA_BITS),
		.oas		= min(caps->oas, 48U),
		/* The device reads guest memory coherently */
		.coherent_walk	= true,
		.tlb		= &viommu_flush_ops,
		.iommu_dev	= viommu->dev->parent,
	};

	ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &vdomain->pgtbl_cfg,
				   vdomain);
	if (!ops) {
		ret = -ENOMEM;
		goto err_asid;
	}
	vdomain->pgtbl_ops = ops;

	ret = viommu_table_check(vdomain, caps, vdev->dev);
	if (ret)
		goto err_free_ops;

	vdomain->table = true;
	vdomain->domain.pgsize_bitmap = vdomain->pgtbl_cfg.pgsize_bitmap;
	vdomain->domain.geometry.aperture_end =
		min_t(u64, vdomain->domain.geometry.aperture_end,
		      (1ULL << vdomain->pgtbl_cfg.ias) - 1);
	vdomain->domain.ops = &viommu_table_ops;
	return 0;

err_free_ops:
	free_io_pgtable_ops(ops);
	vdomain->pgtbl_ops = NULL;
err_asid:
	ida_free(&viommu->asids, asid);
	return ret;
}

int viommu_table_attach(struct viommu_domain *vdomain,
			struct viommu_endpoint *vdev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(vdev->dev);
	struct virtio_iommu_req_attach_table req;
	struct arm_lpae_cfg cfg;
	unsigned int i;
	int ret;

	/* A domain made for one endpoint may not suit another's IOMMU */
	if (!vdev->pgtf.valid ||
	    viommu_table_check(vdomain, &vdev->pgtf.caps, vdev->dev))
		return -EINVAL;

	viommu_table_cfg(vdomain, &cfg);
	for (i = 0; i < fwspec->num_ids; i++) {
		req = (struct virtio_iommu_req_attach_table) {
			.head.type	= VIRTIO_IOMMU_T_ATTACH_TABLE,
			.domain		= cpu_to_le32(vdomain->id),
			.endpoint	= cpu_to_le32(fwspec->ids[i]),
			.format		= cpu_to_le16(VIRTIO_IOMMU_PGTF_ARM_LPAE),
			.asid		= cpu_to_le32(cfg.asid),
			.tcr		= cpu_to_le64(cfg.tcr),
			.ttbr0		= cpu_to_le64(cfg.ttbr0),
			.ttbr1		= cpu_to_le64(cfg.ttbr1),
			.mair		= cpu_to_le64(cfg.mair),
		};
		ret = viommu_send_req_sync(vdomain->viommu, &req, sizeof(req));
		if (ret)
			return ret;
	}
	return 0;
}

void viommu_table_free(struct viommu_domain *vdomain)
{
	free_io_pgtable_ops(vdomain->pgtbl_ops);
	ida_free(&vdomain->viommu->asids, vdomain->asid);
}

static int viommu_table_map_pages(struct iommu_domain *domain,
				  unsigned long iova, phys_addr_t paddr,
				  size_t pgsize, size_t pgcount, int prot,
				  gfp_t gfp, size_t *mapped)
{
	struct io_pgtable_ops *ops = to_viommu_domain(domain)->pgtbl_ops;

	return ops->map_pages(ops, iova, paddr, pgsize, pgcount, prot, gfp,
			      mapped);
}

static size_t viommu_table_unmap_pages(struct iommu_domain *domain,
				       unsigned long iova, size_t pgsize,
				       size_t pgcount,
				       struct iommu_iotlb_gather *gather)
{
	struct io_pgtable_ops *ops = to_viommu_domain(domain)->pgtbl_ops;

	return ops->unmap_pages(ops, iova, pgsize, pgcount, gather);
}

static phys_addr_t viommu_table_iova_to_phys(struct iommu_domain *domain,
					     dma_addr_t iova)
{
	struct io_pgtable_ops *ops = to_viommu_domain(domain)->pgtbl_ops;

	return ops->iova_to_phys(ops, iova);
}

/* One leaf invalidation for the whole gathered range, with its page size */
static void viommu_table_iotlb_sync(struct iommu_domain *domain,
				    struct iommu_iotlb_gather *gather)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	if (gather->start > gather->end || !gather->pgsize)
		return;
	if (!READ_ONCE(vdomain->nr_endpoints))
		return;
	if (!viommu_add_inval(vdomain, VIRTIO_IOMMU_INVAL_S_VA,
			      VIRTIO_IOMMU_INVAL_F_LEAF, gather->start,
			      gather->end - gather->start + 1, gather->pgsize))
		viommu_sync_req(vdomain->viommu);
}

static void viommu_table_flush_iotlb_all(struct iommu_domain *domain)
{
	viommu_flush_asid(to_viommu_domain(domain));
}

static void viommu_table_domain_free(struct iommu_domain *domain)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	viommu_table_free(vdomain);
	viommu_count_domain(vdomain, -1);
	ida_free(&vdomain->viommu->domain_ids, vdomain->id);
	kfree(vdomain);
}

static int viommu_table_attach_dev(VIOMMU_ATTACH_PARAMS)
{
	return viommu_attach_paging(to_viommu_domain(domain), dev);
}

const struct iommu_domain_ops viommu_table_ops = {
	.attach_dev		= viommu_table_attach_dev,
	.map_pages		= viommu_table_map_pages,
	.unmap_pages		= viommu_table_unmap_pages,
	.iova_to_phys		= viommu_table_iova_to_phys,
	.iotlb_sync		= viommu_table_iotlb_sync,
	.flush_iotlb_all	= viommu_table_flush_iotlb_all,
	.free			= viommu_table_domain_free,
};
