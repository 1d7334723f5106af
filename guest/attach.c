// SPDX-License-Identifier: GPL-2.0
/*
 * Binding domains to a viommu, and attaching endpoints to domains.
 *
 * A paging domain is bound to a viommu (domain ID, geometry, classic or
 * table) when it is allocated for a device, or at its first attach where the
 * core allocates without one (6.1). A bound domain holds a reference on its
 * viommu, so freeing it after the transport went away is safe.
 *
 * An endpoint with several IDs (PCI aliases) is attached one ID at a time;
 * if one fails, the IDs already moved are put back where the endpoint was,
 * so that the device and the core agree again: the core then retries the old
 * domain, and a failed rollback leaves the endpoint in a state that makes
 * that retry a full attach, never a no-op.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/slab.h>

#include "viommu.h"

/*
 * Endpoint -> domain changes happen under the endpoint xarray's lock, so a
 * domain seen under that lock by the fault path cannot be freed meanwhile.
 */
void viommu_set_endpoint_domain(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain)
{
	unsigned long flags;

	xa_lock_irqsave(&vdev->viommu->endpoints, flags);
	vdev->vdomain = vdomain;
	xa_unlock_irqrestore(&vdev->viommu->endpoints, flags);
}

static unsigned int viommu_nr_ids(struct viommu_endpoint *vdev)
{
	return dev_iommu_fwspec_get(vdev->dev)->num_ids;
}

/*
 * Send one ATTACH for each of the first @nr_ids IDs of the endpoint; *@sent
 * says how many went out (the last may have failed).
 */
static int viommu_send_attach(struct viommu_endpoint *vdev, u32 domain_id,
			      u32 flags, unsigned int nr_ids,
			      unsigned int *sent)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(vdev->dev);
	struct virtio_iommu_req_attach req;
	unsigned int i;
	int ret;

	*sent = 0;
	for (i = 0; i < nr_ids; i++) {
		req = (struct virtio_iommu_req_attach) {
			.head.type	= VIRTIO_IOMMU_T_ATTACH,
			.domain		= cpu_to_le32(domain_id),
			.endpoint	= cpu_to_le32(fwspec->ids[i]),
			.flags		= cpu_to_le32(flags),
		};
		*sent = i + 1;
		ret = viommu_send_req_sync(vdev->viommu, &req, sizeof(req));
		if (ret)
			return ret;
	}
	return 0;
}

static void viommu_add_endpoints(struct viommu_domain *vdomain, long delta)
{
	unsigned long flags;

	spin_lock_irqsave(&vdomain->lock, flags);
	vdomain->nr_endpoints += delta;
	spin_unlock_irqrestore(&vdomain->lock, flags);
}

/*
 * The device detached the endpoint from its previous domain when it attached
 * it to the new one (and destroyed that domain if it was its last endpoint).
 * Mirror that. Called under the group mutex, which serialises attaches of
 * one endpoint.
 */
static void viommu_leave_domain(struct viommu_endpoint *vdev)
{
	struct viommu_domain *old = vdev->vdomain;

	if (!old)
		return;
	viommu_add_endpoints(old, -1);
	viommu_set_endpoint_domain(vdev, NULL);
}

/*
 * Count an endpoint into a classic domain. For its first endpoint the device
 * has none of the domain's mappings (it never saw them, or dropped them with
 * its last endpoint), so they are sent now; @flush first removes whatever
 * the device may still hold (rollback). map_pages takes the same lock, so a
 * mapping is either replayed here or sent by map_pages, never both. Returns
 * the first failure among the MAPs.
 */
static int viommu_classic_join(struct viommu_domain *vdomain, bool flush)
{
	struct virtio_iommu_req_unmap unmap = {
		.head.type	= VIRTIO_IOMMU_T_UNMAP,
		.domain		= cpu_to_le32(vdomain->id),
		.virt_start	= 0,
		.virt_end	= cpu_to_le64(U64_MAX),
	};
	unsigned long flags;
	int ret = 0, err = 0, ignored = 0;

	spin_lock_irqsave(&vdomain->lock, flags);
	if (!vdomain->nr_endpoints) {
		if (flush)
			ret = viommu_queue_req(vdomain->viommu, &unmap,
					       sizeof(unmap), &ignored, false,
					       GFP_ATOMIC);
		if (!ret)
			ret = viommu_classic_replay(vdomain, &err);
	}
	vdomain->nr_endpoints++;
	spin_unlock_irqrestore(&vdomain->lock, flags);
	return viommu_sync_req(vdomain->viommu) ?: ret ?: err;
}

/* Put the first @nr_ids IDs back into the paging domain @old. */
static int viommu_reattach_paging(struct viommu_endpoint *vdev,
				  struct viommu_domain *old,
				  unsigned int nr_ids)
{
	unsigned int sent;
	int ret;

	if (old->table)
		return viommu_table_attach(old, vdev, nr_ids, &sent);

	ret = viommu_send_attach(vdev, old->id, 0, nr_ids, &sent);
	if (ret)
		return ret;
	/*
	 * If we were its only endpoint and every ID had moved, the device
	 * dropped @old: rebuild it (flushing what may have survived).
	 */
	viommu_add_endpoints(old, -1);
	return viommu_classic_join(old, true);
}

/*
 * An attach failed after @sent requests: put those IDs back where the
 * endpoint was (the failed one too, its effect is unknown).
 */
static void viommu_attach_rollback(struct viommu_endpoint *vdev,
				   unsigned int sent)
{
	struct viommu_dev *viommu = vdev->viommu;
	unsigned int ignored;
	int ret;

	/* Nothing reaches a broken device: unknown state, said once already */
	if (viommu_is_broken(viommu)) {
		ret = -EIO;
		goto out_unknown;
	}
	atomic64_inc(&viommu->stats.attach_rollbacks);
	switch (vdev->attached) {
	case VIOMMU_ATTACHED_PAGING:
		ret = viommu_reattach_paging(vdev, vdev->vdomain, sent);
		break;
	case VIOMMU_ATTACHED_BYPASS:
		ret = viommu_send_attach(vdev, viommu->identity_domain_id,
					 VIRTIO_IOMMU_ATTACH_F_BYPASS, sent,
					 &ignored);
		break;
	default:
		/* Blocked, or never attached: blocked is the safe place */
		ret = viommu_send_attach(vdev, viommu->blocked_domain_id, 0,
					 sent, &ignored);
		if (!ret)
			vdev->attached = VIOMMU_ATTACHED_BLOCKED;
		break;
	}
	if (!ret)
		return;
	dev_err(vdev->dev,
		"attach failed and the previous domain cannot be restored (%d)\n",
		ret);
out_unknown:
	/* Unknown state: the next attach, even to the same domain, is full */
	viommu_leave_domain(vdev);
	vdev->attached = VIOMMU_ATTACHED_NONE;
}

static int viommu_attach_table_dev(struct viommu_domain *vdomain,
				   struct viommu_endpoint *vdev)
{
	unsigned int sent;
	int ret;

	/*
	 * The device may walk the table as soon as ATTACH_TABLE reaches it:
	 * unmaps must send INVALIDATE from then on (viommu_table_inval).
	 */
	viommu_add_endpoints(vdomain, 1);
	ret = viommu_table_attach(vdomain, vdev, viommu_nr_ids(vdev), &sent);
	if (!ret)
		return 0;
	viommu_add_endpoints(vdomain, -1);
	if (sent)
		viommu_attach_rollback(vdev, sent);
	return ret;
}

static int viommu_attach_classic_dev(struct viommu_domain *vdomain,
				     struct viommu_endpoint *vdev)
{
	unsigned int nr_ids = viommu_nr_ids(vdev), sent;
	int ret;

	ret = viommu_send_attach(vdev, vdomain->id, 0, nr_ids, &sent);
	if (!ret) {
		ret = viommu_classic_join(vdomain, false);
		if (!ret)
			return 0;
		viommu_add_endpoints(vdomain, -1);
	}
	if (sent)
		viommu_attach_rollback(vdev, sent);
	return ret;
}

/*
 * Bind @vdomain to @vdev's viommu: a domain ID, the device's input range, and
 * a shared table if @table and the endpoint can walk one, classic otherwise.
 * A domain that recorded mappings before it was bound stays classic: the
 * first attach replays them.
 */
int viommu_domain_bind(struct viommu_domain *vdomain,
		       struct viommu_endpoint *vdev, bool table)
{
	struct viommu_dev *viommu = vdev->viommu;
	unsigned long granule = 1UL << __ffs(viommu->pgsize_bitmap);
	int id;

	id = ida_alloc_range(&viommu->domain_ids, viommu->first_domain,
			     viommu->last_domain, GFP_KERNEL);
	if (id < 0)
		return id;

	viommu_get(viommu);
	vdomain->id = id;
	vdomain->viommu = viommu;
	vdomain->map_flags = viommu->map_flags;
	vdomain->domain.geometry = viommu->geometry;

	if (table && viommu->table_mode &&
	    !viommu_table_init(vdomain, vdev)) {
		viommu_count_domain(vdomain, 1);
		return 0;
	}
	if (granule > PAGE_SIZE) {
		dev_err(vdev->dev, "device granule %#lx exceeds PAGE_SIZE\n",
			granule);
		ida_free(&viommu->domain_ids, id);
		vdomain->viommu = NULL;
		viommu_put(viommu);
		return -ENODEV;
	}
	viommu_classic_init(vdomain);
	viommu_count_domain(vdomain, 1);
	return 0;
}

/* The reverse of viommu_domain_bind, at free: drops the viommu reference */
void viommu_domain_unbind(struct viommu_domain *vdomain)
{
	struct viommu_dev *viommu = vdomain->viommu;

	viommu_count_domain(vdomain, -1);
	ida_free(&viommu->domain_ids, vdomain->id);
	vdomain->viommu = NULL;
	viommu_put(viommu);
}

/*
 * An identity-mapped classic domain for @vdev, whose device has no
 * BYPASS_CONFIG: the input range mapped 1:1 around the reserved regions.
 */
int viommu_domain_bind_identity(struct viommu_domain *vdomain,
				struct viommu_endpoint *vdev)
{
	int ret;

	ret = viommu_domain_bind(vdomain, vdev, false);
	if (ret)
		return ret;
	ret = viommu_classic_map_identity(vdev, vdomain);
	if (ret)
		viommu_domain_unbind(vdomain);
	return ret;
}

/*
 * Bind a domain the core allocated without a device (6.1) at its first
 * attach. Attaches of one domain to several groups are not serialised by the
 * core, hence the mutex: a domain is seen bound only once binding is
 * complete. Once bound, a domain stays bound.
 */
static DEFINE_MUTEX(viommu_bind_lock);

static int viommu_domain_bind_once(struct viommu_domain *vdomain,
				   struct viommu_endpoint *vdev, bool identity)
{
	int ret = 0;

	mutex_lock(&viommu_bind_lock);
	if (!vdomain->viommu) {
		if (identity)
			ret = viommu_domain_bind_identity(vdomain, vdev);
		else
			ret = viommu_domain_bind(vdomain, vdev, true);
	}
	mutex_unlock(&viommu_bind_lock);
	return ret;
}

int viommu_attach_paging(struct viommu_domain *vdomain, struct device *dev)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	int ret;

	ret = viommu_domain_bind_once(vdomain, vdev, false);
	if (ret)
		return ret;
	if (vdomain->viommu != vdev->viommu)
		return -EINVAL;
	if (vdev->attached == VIOMMU_ATTACHED_PAGING && vdev->vdomain == vdomain)
		return 0;

	if (vdomain->table)
		ret = viommu_attach_table_dev(vdomain, vdev);
	else
		ret = viommu_attach_classic_dev(vdomain, vdev);
	if (ret)
		return ret;

	viommu_leave_domain(vdev);
	vdev->attached = VIOMMU_ATTACHED_PAGING;
	viommu_set_endpoint_domain(vdev, vdomain);
	return 0;
}

/* Bypass or blocked: a reserved domain ID, every ID of the endpoint */
static int viommu_attach_reserved(struct viommu_endpoint *vdev,
				  enum viommu_attached to)
{
	struct viommu_dev *viommu = vdev->viommu;
	bool bypass = to == VIOMMU_ATTACHED_BYPASS;
	unsigned int sent;
	int ret;

	if (vdev->attached == to)
		return 0;
	ret = viommu_send_attach(vdev, bypass ? viommu->identity_domain_id :
						viommu->blocked_domain_id,
				 bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0,
				 viommu_nr_ids(vdev), &sent);
	if (ret) {
		if (sent)
			viommu_attach_rollback(vdev, sent);
		return ret;
	}
	viommu_leave_domain(vdev);
	vdev->attached = to;
	return 0;
}

int viommu_attach_bypass(struct viommu_endpoint *vdev)
{
	return viommu_attach_reserved(vdev, VIOMMU_ATTACHED_BYPASS);
}

/*
 * Blocking: attach to a domain that never gets a mapping. Unlike DETACH, this
 * does not depend on the device's bypass setting for unattached endpoints.
 */
int viommu_attach_blocked_dev(struct device *dev)
{
	return viommu_attach_reserved(dev_iommu_priv_get(dev),
				      VIOMMU_ATTACHED_BLOCKED);
}

/*
 * Kernels whose domain_alloc names no device (6.1): an identity domain
 * bypasses when the device offers BYPASS_CONFIG and becomes an
 * identity-mapped classic domain for its first endpoint otherwise.
 */
int viommu_attach_identity_unbound(struct iommu_domain *domain,
				   struct device *dev)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	struct viommu_domain *vdomain = to_viommu_domain(domain);
	int ret;

	if (vdev->viommu->bypass_config)
		return viommu_attach_bypass(vdev);

	ret = viommu_domain_bind_once(vdomain, vdev, true);
	if (ret)
		return ret;
	return viommu_attach_paging(vdomain, dev);
}

/*
 * The endpoint goes away: the core attached the release (blocked) domain
 * before; where it does not (compat.h), park the endpoint there ourselves,
 * so that the device stops using a domain that may be freed next.
 */
void viommu_release_attach(struct viommu_endpoint *vdev)
{
	if (!VIOMMU_CORE_BLOCKS_ON_RELEASE &&
	    viommu_attach_reserved(vdev, VIOMMU_ATTACHED_BLOCKED))
		dev_warn(vdev->dev, "cannot block the released endpoint\n");
	viommu_leave_domain(vdev);
}
