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

static void viommu_fill_inval(struct virtio_iommu_req_invalidate *req,
			      struct viommu_domain *vdomain, u8 scope,
			      u32 flags, unsigned long iova, size_t size,
			      size_t granule)
{
	*req = (struct virtio_iommu_req_invalidate) {
		.head.type	= VIRTIO_IOMMU_T_INVALIDATE,
		.scope		= scope,
		.flags		= cpu_to_le32(flags),
		.domain		= cpu_to_le32(vdomain->id),
		.asid		= cpu_to_le32(scope == VIRTIO_IOMMU_INVAL_S_ALL ?
					      0 : vdomain->asid),
	};
	if (scope == VIRTIO_IOMMU_INVAL_S_VA) {
		unsigned long start = ALIGN_DOWN(iova, granule);

		req->granule = ilog2(granule);
		req->virt_start = cpu_to_le64(start);
		req->nr_pages = cpu_to_le64(DIV_ROUND_UP(iova + size - start,
							 granule));
	}
}

/*
 * One INVALIDATE through the preallocated request: never allocates. NOENT
 * means the device has no such domain (its first attach is still on the way,
 * or its last endpoint left), so nothing of it is cached.
 */
static int viommu_send_inval(struct viommu_domain *vdomain, u8 scope,
			     u32 flags, unsigned long iova, size_t size,
			     size_t granule)
{
	struct virtio_iommu_req_invalidate req;
	int ret;

	viommu_fill_inval(&req, vdomain, scope, flags, iova, size, granule);
	atomic64_inc(&vdomain->viommu->stats.invalidations);
	ret = viommu_send_req_slot(vdomain->viommu, &req, sizeof(req));
	return ret == -ENOENT ? 0 : ret;
}

/*
 * Invalidate, synchronously. A failed invalidation is retried with a wider
 * scope (ASID, then the whole domain); if even that fails, the device cannot
 * be trusted to forget the old walk: the viommu is marked broken, so no new
 * mapping is made and no table page it may walk is freed (see
 * viommu_pgtable_free).
 */
static void viommu_table_inval(struct viommu_domain *vdomain, u8 scope,
			       u32 flags, unsigned long iova, size_t size,
			       size_t granule)
{
	struct viommu_dev *viommu = vdomain->viommu;
	int ret;

	/* Pairs with the attach's nr_endpoints++ before ATTACH_TABLE */
	smp_mb();
	if (!READ_ONCE(vdomain->nr_endpoints))
		return;
	if (viommu_test_skip_inval(viommu, vdomain->id, vdomain->asid, iova,
				   iova + size - 1, true))
		return;

	ret = viommu_send_inval(vdomain, scope, flags, iova, size, granule);
	if (ret && scope == VIRTIO_IOMMU_INVAL_S_VA && !viommu_is_broken(viommu)) {
		atomic64_inc(&viommu->stats.inval_escalations);
		scope = VIRTIO_IOMMU_INVAL_S_ASID;
		ret = viommu_send_inval(vdomain, scope, 0, 0, 0, 0);
	}
	if (ret && scope == VIRTIO_IOMMU_INVAL_S_ASID &&
	    !viommu_is_broken(viommu)) {
		atomic64_inc(&viommu->stats.inval_escalations);
		ret = viommu_send_inval(vdomain, VIRTIO_IOMMU_INVAL_S_ALL, 0, 0,
					0, 0);
	}
	if (ret)
		viommu_set_broken(viommu, "INVALIDATE failed at every scope",
				  ret);
}

static void viommu_flush_asid(struct viommu_domain *vdomain)
{
	viommu_table_inval(vdomain, VIRTIO_IOMMU_INVAL_S_ASID, 0, 0, 0, 0);
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
	viommu_table_inval(cookie, VIRTIO_IOMMU_INVAL_S_VA, 0, iova, size,
			   granule);
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

/*
 * Table pages come from here so that none is freed while the device may
 * still walk it: once the viommu is broken (an invalidation that could not
 * be delivered), io-pgtable's frees are dropped and the pages kept.
 */
static void *viommu_pgtable_alloc(void *cookie, size_t size, gfp_t gfp)
{
	return (void *)__get_free_pages(gfp | __GFP_ZERO, get_order(size));
}

static void viommu_pgtable_free(void *cookie, void *pages, size_t size)
{
	struct viommu_domain *vdomain = cookie;

	if (viommu_may_hold_stale(vdomain->viommu)) {
		atomic64_add(size, &vdomain->viommu->stats.leaked_tables);
		return;
	}
	free_pages((unsigned long)pages, get_order(size));
}

/*
 * The output size to build tables for: the largest TCR.IPS size (io-pgtable
 * accepts no other) within what the device offers (say 44 for 46 bits), and
 * at most io-pgtable's 48. 0 if the device offers less than 32 bits.
 */
static unsigned int viommu_ips_bits(unsigned int oas)
{
	int ips = arm_lpae_ips_from_bits(min(oas, 48U));

	return ips < 0 ? 0 : arm_lpae_ips_to_bits(ips);
}

static void viommu_table_fill_cfg(struct viommu_domain *vdomain,
				  const struct arm_lpae_caps *caps,
				  unsigned int shift, unsigned int oas)
{
	vdomain->pgtbl_cfg = (struct io_pgtable_cfg) {
		.pgsize_bitmap	= viommu_granule_pgsizes(shift),
		.ias		= min(caps->ias, ARM_LPAE_MAX_IA_BITS),
		.oas		= oas,
		/* The device reads guest memory coherently */
		.coherent_walk	= true,
		.tlb		= &viommu_flush_ops,
		.iommu_dev	= vdomain->viommu->dev->parent,
	};
	viommu_compat_pgtable_allocator(&vdomain->pgtbl_cfg,
					viommu_pgtable_alloc,
					viommu_pgtable_free);
}

/*
 * Whether the endpoint's format can be used, and the granule and output
 * size to use; says why not in one line per endpoint.
 */
static int viommu_table_usable(struct viommu_endpoint *vdev,
			       unsigned int *shift, unsigned int *oas)
{
	const struct arm_lpae_caps *caps = &vdev->pgtf.caps;
	const char *why;

	*shift = viommu_pick_granule(caps->granules);
	*oas = viommu_ips_bits(caps->oas);
	if (!vdev->pgtf.valid)
		why = "no page-table format property";
	else if (!*shift)
		why = "no granule <= PAGE_SIZE";
	else if (vdev->pgtf.host_window.bad)
		why = "unusable host window";
	else if (caps->asid_bits < 8)
		why = "fewer than 8 ASID bits";
	else if (!*oas)
		why = "output size below 32 bits";
	else
		return 0;

	if (!vdev->pgtf_refusal_logged)
		dev_info(vdev->dev,
			 "page-table format unusable (%s), using MAP/UNMAP: offered granules %#x (PAGE_SIZE %#lx), %u ASID bits, oas %u\n",
			 why, caps->granules, PAGE_SIZE, caps->asid_bits,
			 caps->oas);
	vdev->pgtf_refusal_logged = true;
	return -EOPNOTSUPP;
}

/*
 * Switch the domain to its table. Where the core allocates domains without
 * a device (6.1), map_pages may have recorded mappings in the unbound domain
 * meanwhile: checked under the domain lock, which classic map_pages holds,
 * and if there are any the domain stays classic.
 */
static int viommu_table_publish(struct viommu_domain *vdomain)
{
	unsigned long flags;
	int ret = -EBUSY;

	spin_lock_irqsave(&vdomain->lock, flags);
	if (RB_EMPTY_ROOT(&vdomain->mappings.rb_root)) {
		vdomain->table = true;
		vdomain->domain.pgsize_bitmap =
			vdomain->pgtbl_cfg.pgsize_bitmap;
		vdomain->domain.geometry.aperture_end =
			min_t(u64, vdomain->domain.geometry.aperture_end,
			      (1ULL << vdomain->pgtbl_cfg.ias) - 1);
		WRITE_ONCE(vdomain->domain.ops, &viommu_table_ops);
		ret = 0;
	}
	spin_unlock_irqrestore(&vdomain->lock, flags);
	return ret;
}

int viommu_table_init(struct viommu_domain *vdomain,
		      struct viommu_endpoint *vdev)
{
	struct viommu_dev *viommu = vdomain->viommu;
	const struct arm_lpae_caps *caps = &vdev->pgtf.caps;
	unsigned int shift, oas, asid_bits;
	struct io_pgtable_ops *ops;
	int asid, ret;

	ret = viommu_table_usable(vdev, &shift, &oas);
	if (ret)
		return ret;
	if (oas != caps->oas)
		dev_dbg(vdev->dev, "output size %u bits, rounded down to %u\n",
			caps->oas, oas);

	asid_bits = caps->asid_bits >= 16 ? 16 : 8;
	/* ASID 0 stays unused: some hosts reserve it for their own tables */
	asid = ida_alloc_range(&viommu->asids, 1, (1U << asid_bits) - 1,
			       GFP_KERNEL);
	if (asid < 0) {
		dev_info_ratelimited(vdev->dev,
				     "no free ASID (%u bits): this domain uses MAP/UNMAP\n",
				     asid_bits);
		return asid;
	}

	vdomain->caps = *caps;
	vdomain->asid = asid;
	vdomain->host_window = vdev->pgtf.host_window;
	viommu_table_fill_cfg(vdomain, caps, shift, oas);
	ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &vdomain->pgtbl_cfg,
				   vdomain);
	if (!ops) {
		dev_info_ratelimited(vdev->dev,
				     "io-pgtable refused the table (ias %u, oas %u, granule %#lx) or is out of memory: this domain uses MAP/UNMAP\n",
				     vdomain->pgtbl_cfg.ias, oas, 1UL << shift);
		ret = -ENOMEM;
		goto err_asid;
	}
	vdomain->pgtbl_ops = ops;

	ret = viommu_table_check(vdomain, caps, vdev->dev);
	if (ret)
		goto err_free_ops;
	ret = viommu_table_publish(vdomain);
	if (ret)
		goto err_free_ops;
	atomic_or(caps->granules, &viommu->stats.granules_offered);
	atomic_or(1U << shift, &viommu->stats.granules_used);
	return 0;

err_free_ops:
	free_io_pgtable_ops(ops);
	vdomain->pgtbl_ops = NULL;
err_asid:
	ida_free(&viommu->asids, asid);
	return ret;
}

static void viommu_fill_attach_table(struct virtio_iommu_req_attach_table *req,
				     struct viommu_domain *vdomain,
				     const struct arm_lpae_cfg *cfg, u32 id)
{
	*req = (struct virtio_iommu_req_attach_table) {
		.head.type	= VIRTIO_IOMMU_T_ATTACH_TABLE,
		.domain		= cpu_to_le32(vdomain->id),
		.endpoint	= cpu_to_le32(id),
		.format		= cpu_to_le16(VIRTIO_IOMMU_PGTF_ARM_LPAE),
		.asid		= cpu_to_le32(cfg->asid),
		.tcr		= cpu_to_le64(cfg->tcr),
		.ttbr0		= cpu_to_le64(cfg->ttbr0),
		.ttbr1		= cpu_to_le64(cfg->ttbr1),
		.mair		= cpu_to_le64(cfg->mair),
	};
}

/*
 * ATTACH_TABLE for the first @nr_ids IDs of the endpoint. *@sent: how many requests were
 * sent (the last one may have failed), for the caller's rollback.
 */
int viommu_table_attach(struct viommu_domain *vdomain,
			struct viommu_endpoint *vdev, unsigned int nr_ids,
			unsigned int *sent)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(vdev->dev);
	struct virtio_iommu_req_attach_table req;
	struct arm_lpae_cfg cfg;
	unsigned int i;
	int ret;

	*sent = 0;
	/* A domain made for one endpoint may not suit another's IOMMU */
	if (!vdev->pgtf.valid ||
	    viommu_table_check(vdomain, &vdev->pgtf.caps, vdev->dev))
		return -EINVAL;
	if (!viommu_same_host_window(&vdomain->host_window,
				     &vdev->pgtf.host_window)) {
		dev_info_ratelimited(vdev->dev,
				     "host window differs from domain %u's: not attached\n",
				     vdomain->id);
		return -EINVAL;
	}

	viommu_table_cfg(vdomain, &cfg);
	for (i = 0; i < nr_ids && i < fwspec->num_ids; i++) {
		viommu_fill_attach_table(&req, vdomain, &cfg, fwspec->ids[i]);
		*sent = i + 1;
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
	struct viommu_domain *vdomain = to_viommu_domain(domain);
	struct io_pgtable_ops *ops = vdomain->pgtbl_ops;

	/* The device may not hear of unmaps any more: map nothing new */
	if (viommu_is_broken(vdomain->viommu))
		return -EIO;
	if (viommu_in_host_window(&vdomain->host_window, paddr,
				  (u64)pgsize * pgcount)) {
		pr_warn_ratelimited("domain %u: %pa + %#zx meets the host window, not mapped\n",
				    vdomain->id, &paddr, pgsize * pgcount);
		return -EINVAL;
	}
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
	if (gather->start > gather->end || !gather->pgsize)
		return;
	viommu_table_inval(to_viommu_domain(domain), VIRTIO_IOMMU_INVAL_S_VA,
			   VIRTIO_IOMMU_INVAL_F_LEAF, gather->start,
			   gather->end - gather->start + 1, gather->pgsize);
}

static void viommu_table_flush_iotlb_all(struct iommu_domain *domain)
{
	viommu_flush_asid(to_viommu_domain(domain));
}

static void viommu_table_domain_free(struct iommu_domain *domain)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	viommu_table_free(vdomain);
	viommu_domain_unbind(vdomain);
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
