// SPDX-License-Identifier: GPL-2.0
/*
 * Classic domains: every mapping is a MAP request, every unmapping an UNMAP
 * request (virtio-iommu v1). The driver keeps its own interval tree of the
 * mappings because the device forgets a domain's mappings when its last
 * endpoint leaves, and because iova_to_phys must not trap.
 *
 * A whole map_pages() call is one MAP request (the spec allows any size the
 * page size mask can express), and requests are only pushed to the device by
 * iotlb_sync_map / iotlb_sync / flush_iotlb_all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interval_tree.h>
#include <linux/slab.h>

#include "viommu.h"

static u32 viommu_prot_to_flags(int prot)
{
	return (prot & IOMMU_READ ? VIRTIO_IOMMU_MAP_F_READ : 0) |
	       (prot & IOMMU_WRITE ? VIRTIO_IOMMU_MAP_F_WRITE : 0) |
	       (prot & IOMMU_MMIO ? VIRTIO_IOMMU_MAP_F_MMIO : 0);
}

static struct viommu_mapping *
viommu_new_mapping(u64 iova, u64 last, phys_addr_t paddr, u32 flags, gfp_t gfp)
{
	struct viommu_mapping *mapping;

	mapping = kzalloc(sizeof(*mapping), gfp);
	if (!mapping)
		return NULL;

	mapping->paddr = paddr;
	mapping->iova.start = iova;
	mapping->iova.last = last;
	mapping->flags = flags;
	return mapping;
}

static int viommu_add_mapping(struct viommu_domain *vdomain, u64 iova, u64 last,
			      phys_addr_t paddr, u32 flags, gfp_t gfp)
{
	struct viommu_mapping *mapping;
	unsigned long irqflags;

	mapping = viommu_new_mapping(iova, last, paddr, flags, gfp);
	if (!mapping)
		return -ENOMEM;

	spin_lock_irqsave(&vdomain->lock, irqflags);
	interval_tree_insert(&mapping->iova, &vdomain->mappings);
	spin_unlock_irqrestore(&vdomain->lock, irqflags);
	return 0;
}

/*
 * Remove the mappings that start inside [iova, last]. The device cannot split
 * a mapping made by one MAP request, so neither do we: a range that starts in
 * the middle of a mapping removes nothing. Returns the bytes removed.
 */
static size_t viommu_del_mappings(struct viommu_domain *vdomain, u64 iova,
				  u64 last)
{
	struct interval_tree_node *node, *next;
	struct viommu_mapping *mapping;
	unsigned long flags;
	size_t removed = 0;

	spin_lock_irqsave(&vdomain->lock, flags);
	next = interval_tree_iter_first(&vdomain->mappings, iova, last);
	while (next) {
		node = next;
		next = interval_tree_iter_next(node, iova, last);
		mapping = container_of(node, struct viommu_mapping, iova);
		if (mapping->iova.start < iova)
			break;

		removed += mapping->iova.last - mapping->iova.start + 1;
		interval_tree_remove(node, &vdomain->mappings);
		kfree(mapping);
	}
	spin_unlock_irqrestore(&vdomain->lock, flags);
	return removed;
}

static void viommu_fill_map_req(struct virtio_iommu_req_map *req, u32 domain_id,
				u64 iova, u64 last, phys_addr_t paddr, u32 flags)
{
	*req = (struct virtio_iommu_req_map) {
		.head.type	= VIRTIO_IOMMU_T_MAP,
		.domain		= cpu_to_le32(domain_id),
		.virt_start	= cpu_to_le64(iova),
		.virt_end	= cpu_to_le64(last),
		.phys_start	= cpu_to_le64(paddr),
		.flags		= cpu_to_le32(flags),
	};
}

int viommu_classic_send_unmap(struct viommu_dev *viommu, u32 domain_id,
			      u64 start, u64 end)
{
	struct virtio_iommu_req_unmap req = {
		.head.type	= VIRTIO_IOMMU_T_UNMAP,
		.domain		= cpu_to_le32(domain_id),
		.virt_start	= cpu_to_le64(start),
		.virt_end	= cpu_to_le64(end),
	};

	int ret;

	atomic64_inc(&viommu->stats.unmaps);
	/* A refused UNMAP leaves a live translation: it breaks the viommu */
	ret = viommu_queue_req(viommu, &req, sizeof(req), NULL, true,
			       GFP_ATOMIC);
	if (ret != -ENOMEM)
		return ret;
	/* Out of memory: the preallocated request, synchronously */
	ret = viommu_send_req_slot(viommu, &req, sizeof(req));
	if (ret && ret != -ENOENT)
		viommu_set_broken(viommu, "UNMAP failed", ret);
	return ret;
}

/* The mappings tree is set up by the allocation: it may hold some already. */
void viommu_classic_init(struct viommu_domain *vdomain)
{
	vdomain->domain.pgsize_bitmap = vdomain->viommu->pgsize_bitmap;
	vdomain->domain.ops = &viommu_classic_ops;
}

void viommu_classic_free(struct viommu_domain *vdomain)
{
	viommu_del_mappings(vdomain, 0, U64_MAX);
}

/*
 * An identity domain for a device without BYPASS_CONFIG: map the whole input
 * range 1:1 except the endpoint's reserved regions (sorted by probe.c).
 */
int viommu_classic_map_identity(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain)
{
	u32 flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
	unsigned long granule = 1UL << __ffs(vdomain->domain.pgsize_bitmap);
	u64 iova = ALIGN(vdomain->domain.geometry.aperture_start, granule);
	u64 limit = ALIGN_DOWN(vdomain->domain.geometry.aperture_end + 1,
			       granule) - 1;
	struct iommu_resv_region *resv;
	int ret;

	list_for_each_entry(resv, &vdev->resv_regions, list) {
		u64 resv_start = ALIGN_DOWN(resv->start, granule);
		u64 resv_end = ALIGN(resv->start + resv->length, granule) - 1;

		if (resv_end < iova || resv_start > limit)
			continue;
		if (resv_start > iova) {
			ret = viommu_add_mapping(vdomain, iova, resv_start - 1,
						 iova, flags, GFP_KERNEL);
			if (ret)
				goto err_unmap;
		}
		if (resv_end >= limit)
			return 0;
		iova = resv_end + 1;
	}

	ret = viommu_add_mapping(vdomain, iova, limit, iova, flags, GFP_KERNEL);
	if (ret)
		goto err_unmap;
	return 0;

err_unmap:
	viommu_del_mappings(vdomain, 0, U64_MAX);
	return ret;
}

/*
 * The device dropped the domain's mappings when its last endpoint left (or
 * never saw them if they were made before the first attach): queue them
 * again. Called with the domain lock held by the first attach; the caller
 * syncs after dropping it, and finds the first failure in *@err.
 */
int viommu_classic_replay(struct viommu_domain *vdomain, int *err)
{
	struct virtio_iommu_req_map req;
	struct interval_tree_node *node;
	struct viommu_mapping *mapping;
	int ret;

	lockdep_assert_held(&vdomain->lock);

	for (node = interval_tree_iter_first(&vdomain->mappings, 0, U64_MAX);
	     node; node = interval_tree_iter_next(node, 0, U64_MAX)) {
		mapping = container_of(node, struct viommu_mapping, iova);
		viommu_fill_map_req(&req, vdomain->id, mapping->iova.start,
				    mapping->iova.last, mapping->paddr,
				    mapping->flags);
		ret = viommu_queue_req(vdomain->viommu, &req, sizeof(req), err,
				       false, GFP_ATOMIC);
		if (ret)
			return ret;
	}
	return 0;
}

static bool viommu_domain_live(struct viommu_domain *vdomain)
{
	/* Pairs with the update in attach: a racy read only delays a sync. */
	return READ_ONCE(vdomain->nr_endpoints);
}

/*
 * Complete the queued requests and return the failure of a MAP made for
 * [iova, iova + size), if any: each caller learns of its own MAPs only.
 */
static int viommu_classic_map_result(struct viommu_domain *vdomain,
				     unsigned long iova, size_t size)
{
	struct interval_tree_node *node;
	struct viommu_mapping *mapping;
	unsigned long flags;
	int ret;

	ret = viommu_sync_req(vdomain->viommu);
	if (ret)
		return ret;

	spin_lock_irqsave(&vdomain->lock, flags);
	for (node = interval_tree_iter_first(&vdomain->mappings, iova,
					     iova + size - 1);
	     node && !ret;
	     node = interval_tree_iter_next(node, iova, iova + size - 1)) {
		mapping = container_of(node, struct viommu_mapping, iova);
		ret = READ_ONCE(mapping->err);
	}
	spin_unlock_irqrestore(&vdomain->lock, flags);
	return ret;
}

static int viommu_classic_map_pages(struct iommu_domain *domain,
				    unsigned long iova, phys_addr_t paddr,
				    size_t pgsize, size_t pgcount, int prot,
				    gfp_t gfp, size_t *mapped)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);
	size_t size = pgsize * pgcount;
	u64 last = iova + size - 1;
	struct virtio_iommu_req_map req;
	struct viommu_mapping *mapping;
	unsigned long irqflags;
	bool live;
	int ret = 0;
	u32 flags;

	flags = viommu_prot_to_flags(prot);
	if (flags & ~vdomain->map_flags)
		return -EINVAL;
	if (vdomain->viommu && viommu_is_broken(vdomain->viommu))
		return -EIO;

	mapping = viommu_new_mapping(iova, last, paddr, flags, gfp);
	if (!mapping)
		return -ENOMEM;

	/*
	 * Under the domain lock, so that the first attach either replays this
	 * mapping or sees it sent here, never both.
	 */
	spin_lock_irqsave(&vdomain->lock, irqflags);
	if (unlikely(vdomain->table)) {
		/* 6.1: bound to a table since the core picked these ops */
		spin_unlock_irqrestore(&vdomain->lock, irqflags);
		kfree(mapping);
		return viommu_table_ops.map_pages(domain, iova, paddr, pgsize,
						  pgcount, prot, gfp, mapped);
	}
	live = vdomain->nr_endpoints;
	if (live) {
		viommu_fill_map_req(&req, vdomain->id, iova, last, paddr,
				    flags);
		/* Its failure is recorded in the mapping, for iotlb_sync_map */
		ret = viommu_queue_req(vdomain->viommu, &req, sizeof(req),
				       &mapping->err, false, GFP_ATOMIC);
	}
	if (!ret)
		interval_tree_insert(&mapping->iova, &vdomain->mappings);
	spin_unlock_irqrestore(&vdomain->lock, irqflags);

	if (ret) {
		kfree(mapping);
		return ret;
	}
	*mapped = size;
	if (!live)
		return 0;
	atomic64_inc(&vdomain->viommu->stats.maps);
	/*
	 * Where iotlb_sync_map cannot fail (compat.h), complete the MAP now:
	 * on error the core unmaps the *mapped bytes.
	 */
	if (!VIOMMU_SYNC_IN_MAP)
		return 0;
	return viommu_classic_map_result(vdomain, iova, size);
}

static size_t viommu_classic_unmap_pages(struct iommu_domain *domain,
					 unsigned long iova, size_t pgsize,
					 size_t pgcount,
					 struct iommu_iotlb_gather *gather)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);
	struct viommu_dev *viommu = vdomain->viommu;
	size_t size = pgsize * pgcount;
	size_t unmapped;

	unmapped = viommu_del_mappings(vdomain, iova, iova + size - 1);
	if (unmapped < size)
		return 0;

	/* Without endpoints the device holds no mapping of this domain. */
	if (!viommu_domain_live(vdomain))
		return unmapped;

	if (viommu_test_skip_inval(viommu, vdomain->id, 0, iova,
				   iova + unmapped - 1, false))
		return unmapped;

	/*
	 * Sent by iotlb_sync, or by the flush queue's flush_iotlb_all. A
	 * failure broke the viommu: the range is gone from our tree anyway.
	 */
	viommu_classic_send_unmap(viommu, vdomain->id, iova,
				  iova + unmapped - 1);
	return unmapped;
}

static phys_addr_t viommu_classic_iova_to_phys(struct iommu_domain *domain,
					       dma_addr_t iova)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);
	struct interval_tree_node *node;
	struct viommu_mapping *mapping;
	unsigned long flags;
	phys_addr_t paddr = 0;

	spin_lock_irqsave(&vdomain->lock, flags);
	node = interval_tree_iter_first(&vdomain->mappings, iova, iova);
	if (node) {
		mapping = container_of(node, struct viommu_mapping, iova);
		paddr = mapping->paddr + (iova - mapping->iova.start);
	}
	spin_unlock_irqrestore(&vdomain->lock, flags);
	return paddr;
}

static int __maybe_unused
viommu_classic_iotlb_sync_map(struct iommu_domain *domain, unsigned long iova,
			      size_t size)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	/* Direct mappings are created before any endpoint is attached. */
	if (!viommu_domain_live(vdomain))
		return 0;
	return viommu_classic_map_result(vdomain, iova, size);
}

static void viommu_classic_iotlb_sync(struct iommu_domain *domain,
				      struct iommu_iotlb_gather *gather)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	/* Unmaps of a domain without endpoints queue nothing. */
	if (viommu_domain_live(vdomain))
		viommu_sync_req(vdomain->viommu);
}

static void viommu_classic_flush_iotlb_all(struct iommu_domain *domain)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	if (viommu_domain_live(vdomain))
		viommu_sync_req(vdomain->viommu);
}

/* Also frees domains never bound to a viommu (6.1, see viommu.h). */
void viommu_classic_domain_free(struct iommu_domain *domain)
{
	struct viommu_domain *vdomain = to_viommu_domain(domain);

	viommu_classic_free(vdomain);
	if (vdomain->viommu)
		viommu_domain_unbind(vdomain);
	kfree(vdomain);
}

static int viommu_classic_attach_dev(VIOMMU_ATTACH_PARAMS)
{
	return viommu_attach_paging(to_viommu_domain(domain), dev);
}

const struct iommu_domain_ops viommu_classic_ops = {
	.attach_dev		= viommu_classic_attach_dev,
	.map_pages		= viommu_classic_map_pages,
	.unmap_pages		= viommu_classic_unmap_pages,
	.iova_to_phys		= viommu_classic_iova_to_phys,
#ifdef VIOMMU_HAVE_SYNC_MAP_ERR
	/* 6.1's returns void: map_pages syncs there (VIOMMU_SYNC_IN_MAP) */
	.iotlb_sync_map		= viommu_classic_iotlb_sync_map,
#endif
	.iotlb_sync		= viommu_classic_iotlb_sync,
	.flush_iotlb_all	= viommu_classic_flush_iotlb_all,
	.free			= viommu_classic_domain_free,
};
