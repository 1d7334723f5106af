// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-iommu driver with page-table sharing: the virtio driver, the IOMMU
 * core glue (iommu_ops, endpoints, attach) and the module parameters.
 *
 * Each paging domain is either classic (MAP/UNMAP requests,
 * domain_classic.c) or a shared table (io-pgtable-arm, ATTACH_TABLE and
 * INVALIDATE, domain_table.c). Identity domains use the device's bypass
 * when BYPASS_CONFIG is offered and an identity-mapped classic domain
 * otherwise; the blocked domain is an empty domain every blocked endpoint
 * shares.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "viommu.h"

bool viommu_force_classic;
module_param_named(force_classic, viommu_force_classic, bool, 0444);
MODULE_PARM_DESC(force_classic,
		 "Never negotiate page-table sharing: MAP/UNMAP domains only");

static LIST_HEAD(viommu_devices);
static DEFINE_MUTEX(viommu_devices_lock);
static struct dentry *viommu_debugfs_root;

static struct viommu_dev *viommu_get_by_fwnode(struct fwnode_handle *fwnode)
{
	struct viommu_dev *viommu, *found = NULL;

	mutex_lock(&viommu_devices_lock);
	list_for_each_entry(viommu, &viommu_devices, list) {
		if (dev_fwnode(viommu->dev->parent) == fwnode) {
			found = viommu;
			break;
		}
	}
	mutex_unlock(&viommu_devices_lock);
	return found;
}

/* Send one ATTACH-like request for every ID of the endpoint. */
static int viommu_send_attach(struct viommu_endpoint *vdev, u32 domain_id,
			      u32 flags)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(vdev->dev);
	struct virtio_iommu_req_attach req;
	unsigned int i;
	int ret;

	for (i = 0; i < fwspec->num_ids; i++) {
		req = (struct virtio_iommu_req_attach) {
			.head.type	= VIRTIO_IOMMU_T_ATTACH,
			.domain		= cpu_to_le32(domain_id),
			.endpoint	= cpu_to_le32(fwspec->ids[i]),
			.flags		= cpu_to_le32(flags),
		};
		ret = viommu_send_req_sync(vdev->viommu, &req, sizeof(req));
		if (ret)
			return ret;
	}
	return 0;
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
	unsigned long flags;

	if (!old)
		return;
	spin_lock_irqsave(&old->lock, flags);
	old->nr_endpoints--;
	spin_unlock_irqrestore(&old->lock, flags);
	viommu_set_endpoint_domain(vdev, NULL);
}

/*
 * A paging domain not bound to a viommu yet. Until it is, it records
 * mappings like a classic domain without endpoints, in pages of PAGE_SIZE
 * (where the core allocates without a device, 6.1, it needs a page size
 * before the first attach).
 */
static struct viommu_domain *viommu_domain_new(void)
{
	struct viommu_domain *vdomain;

	vdomain = kzalloc(sizeof(*vdomain), GFP_KERNEL);
	if (!vdomain)
		return NULL;

	spin_lock_init(&vdomain->lock);
	vdomain->mappings = RB_ROOT_CACHED;
	vdomain->map_flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE |
			     VIRTIO_IOMMU_MAP_F_MMIO;
	vdomain->domain.pgsize_bitmap = PAGE_SIZE;
	vdomain->domain.ops = &viommu_classic_ops;
	return vdomain;
}

/*
 * Bind @vdomain to @vdev's viommu: a domain ID, the device's input range, and
 * a shared table if @table and the endpoint can walk one, classic otherwise.
 * A domain that recorded mappings before it was bound stays classic: the
 * first attach replays them.
 */
static int viommu_domain_bind(struct viommu_domain *vdomain,
			      struct viommu_endpoint *vdev, bool table)
{
	struct viommu_dev *viommu = vdev->viommu;
	unsigned long granule = 1UL << __ffs(viommu->pgsize_bitmap);
	int id, ret = -ENODEV;

	id = ida_alloc_range(&viommu->domain_ids, viommu->first_domain,
			     viommu->last_domain, GFP_KERNEL);
	if (id < 0)
		return id;

	vdomain->id = id;
	vdomain->viommu = viommu;
	vdomain->map_flags = viommu->map_flags;
	vdomain->domain.geometry = viommu->geometry;

	if (table && viommu->table_mode &&
	    RB_EMPTY_ROOT(&vdomain->mappings.rb_root)) {
		ret = viommu_table_init(vdomain, vdev);
		/* Once per endpoint: every domain of it would say the same */
		if (ret && !vdev->pgtf_refusal_logged) {
			dev_info(vdev->dev,
				 "page-table format unusable (%d), using MAP/UNMAP: offered granules %#x (PAGE_SIZE %#lx), %u ASID bits\n",
				 ret, vdev->pgtf.caps.granules, PAGE_SIZE,
				 vdev->pgtf.caps.asid_bits);
			vdev->pgtf_refusal_logged = true;
		}
	}
	if (!ret) {
		viommu_count_domain(vdomain, 1);
		return 0;
	}

	if (granule > PAGE_SIZE) {
		dev_err(vdev->dev, "device granule %#lx exceeds PAGE_SIZE\n",
			granule);
		ida_free(&viommu->domain_ids, id);
		vdomain->viommu = NULL;
		return -ENODEV;
	}
	viommu_classic_init(vdomain);
	viommu_count_domain(vdomain, 1);
	return 0;
}

/*
 * An identity-mapped classic domain for @vdev, whose device has no
 * BYPASS_CONFIG: the input range mapped 1:1 around the reserved regions.
 */
static int viommu_domain_bind_identity(struct viommu_domain *vdomain,
				       struct viommu_endpoint *vdev)
{
	int ret;

	ret = viommu_domain_bind(vdomain, vdev, false);
	if (ret)
		return ret;
	ret = viommu_classic_map_identity(vdev, vdomain);
	if (ret) {
		viommu_count_domain(vdomain, -1);
		ida_free(&vdev->viommu->domain_ids, vdomain->id);
		vdomain->viommu = NULL;
	}
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
	unsigned long flags;
	int ret;

	ret = viommu_domain_bind_once(vdomain, vdev, false);
	if (ret)
		return ret;
	if (vdomain->viommu != vdev->viommu)
		return -EINVAL;
	if (vdev->vdomain == vdomain)
		return 0;

	if (vdomain->table)
		ret = viommu_table_attach(vdomain, vdev);
	else
		ret = viommu_send_attach(vdev, vdomain->id, 0);
	if (ret)
		return ret;

	viommu_leave_domain(vdev);

	/*
	 * A classic domain without endpoints does not exist in the device:
	 * its mappings are sent now. map_pages holds the same lock, so a
	 * mapping is either replayed here or sent by map_pages, never both.
	 */
	spin_lock_irqsave(&vdomain->lock, flags);
	if (!vdomain->table && !vdomain->nr_endpoints)
		ret = viommu_classic_replay(vdomain);
	vdomain->nr_endpoints++;
	spin_unlock_irqrestore(&vdomain->lock, flags);
	if (!vdomain->table)
		ret = viommu_sync_req(vdomain->viommu) ?: ret;
	viommu_set_endpoint_domain(vdev, vdomain);
	return ret;
}

static int viommu_attach_bypass(struct viommu_endpoint *vdev)
{
	int ret;

	ret = viommu_send_attach(vdev, vdev->viommu->identity_domain_id,
				 VIRTIO_IOMMU_ATTACH_F_BYPASS);
	if (ret)
		return ret;
	viommu_leave_domain(vdev);
	return 0;
}

static int viommu_attach_identity(VIOMMU_ATTACH_PARAMS)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);

	if (!vdev->viommu->bypass_config)
		return -EOPNOTSUPP;
	return viommu_attach_bypass(vdev);
}

/* Only handed out when the device offers BYPASS_CONFIG. */
static struct iommu_domain viommu_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &(const struct iommu_domain_ops) {
		.attach_dev = viommu_attach_identity,
	},
};

/*
 * Blocking: attach to a domain that never gets a mapping. Unlike DETACH, this
 * does not depend on the device's bypass setting for unattached endpoints.
 */
static int viommu_attach_blocked(VIOMMU_ATTACH_PARAMS)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	int ret;

	ret = viommu_send_attach(vdev, vdev->viommu->blocked_domain_id, 0);
	if (ret)
		return ret;
	viommu_leave_domain(vdev);
	return 0;
}

static struct iommu_domain viommu_blocked_domain __maybe_unused = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &(const struct iommu_domain_ops) {
		.attach_dev = viommu_attach_blocked,
	},
};

static __maybe_unused struct iommu_domain *
viommu_domain_alloc_paging(struct device *dev)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	struct viommu_domain *vdomain;
	int ret;

	vdomain = viommu_domain_new();
	if (!vdomain)
		return ERR_PTR(-ENOMEM);
	ret = viommu_domain_bind(vdomain, vdev, true);
	if (ret) {
		kfree(vdomain);
		return ERR_PTR(ret);
	}
	return &vdomain->domain;
}

static __maybe_unused struct iommu_domain *
viommu_domain_alloc_identity(struct device *dev)
{
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	struct viommu_domain *vdomain;
	int ret;

	if (vdev->viommu->bypass_config)
		return &viommu_identity_domain;

	vdomain = viommu_domain_new();
	if (!vdomain)
		return ERR_PTR(-ENOMEM);
	ret = viommu_domain_bind_identity(vdomain, vdev);
	if (ret) {
		kfree(vdomain);
		return ERR_PTR(ret);
	}
	return &vdomain->domain;
}

/*
 * Kernels whose domain_alloc names no device (6.1): identity and blocked
 * domains are allocated per group too. An identity domain bypasses when the
 * device offers BYPASS_CONFIG and becomes an identity-mapped classic domain
 * for its first endpoint otherwise; a blocked domain needs no state.
 */
static int viommu_attach_identity_unbound(VIOMMU_ATTACH_PARAMS)
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

static const struct iommu_domain_ops viommu_identity_unbound_ops __maybe_unused = {
	.attach_dev	= viommu_attach_identity_unbound,
	.free		= viommu_classic_domain_free,
};

static const struct iommu_domain_ops viommu_blocked_unbound_ops __maybe_unused = {
	.attach_dev	= viommu_attach_blocked,
	.free		= viommu_classic_domain_free,
};

static __maybe_unused struct iommu_domain *
viommu_domain_alloc_type(unsigned int type)
{
	const struct iommu_domain_ops *ops;
	struct viommu_domain *vdomain;

	switch (type) {
	case IOMMU_DOMAIN_UNMANAGED:
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ:
		/* Bound, and made classic or table, at the first attach */
		ops = &viommu_classic_ops;
		break;
	case IOMMU_DOMAIN_IDENTITY:
		ops = &viommu_identity_unbound_ops;
		break;
	case IOMMU_DOMAIN_BLOCKED:
		ops = &viommu_blocked_unbound_ops;
		break;
	default:
		return NULL;
	}

	vdomain = viommu_domain_new();
	if (!vdomain)
		return NULL;
	vdomain->domain.ops = ops;
	return &vdomain->domain;
}

static struct iommu_device *viommu_probe_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct viommu_endpoint *vdev;
	struct viommu_dev *viommu;
	unsigned int i;
	int ret;

	/*
	 * 6.1 offers every device of the platform and PCI buses, including
	 * those whose empty fwspec only names the IOMMU they wait for: they
	 * come back through of_xlate once it is registered.
	 */
	if (!fwspec || !fwspec->num_ids)
		return ERR_PTR(-ENODEV);
	viommu = viommu_get_by_fwnode(fwspec->iommu_fwnode);
	if (!viommu)
		return ERR_PTR(-ENODEV);

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return ERR_PTR(-ENOMEM);
	vdev->dev = dev;
	vdev->viommu = viommu;
	INIT_LIST_HEAD(&vdev->resv_regions);
	dev_iommu_priv_set(dev, vdev);

	if (viommu->probe_size) {
		ret = viommu_probe_endpoint(viommu, vdev);
		if (ret)
			goto err_free;
	}

	/*
	 * Devices behind a PCI bridge share the bridge's alias ID: the last
	 * one probed gets the fault reports for it.
	 */
	for (i = 0; i < fwspec->num_ids; i++) {
		ret = xa_err(xa_store_irq(&viommu->endpoints, fwspec->ids[i],
					  vdev, GFP_KERNEL));
		if (ret)
			goto err_erase;
	}
	return &viommu->iommu;

err_erase:
	while (i--)
		xa_cmpxchg_irq(&viommu->endpoints, fwspec->ids[i], vdev, NULL,
			       GFP_KERNEL);
err_free:
	iommu_put_resv_regions(dev, &vdev->resv_regions);
	dev_iommu_priv_set(dev, NULL);
	kfree(vdev);
	return ERR_PTR(ret);
}

/*
 * The core attached the release (blocked) domain before calling this; where
 * it does not (compat.h), park the endpoint there ourselves, so that the
 * device stops using a domain that may be freed next.
 */
static void viommu_release_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	unsigned int i;

	if (!VIOMMU_CORE_BLOCKS_ON_RELEASE &&
	    viommu_send_attach(vdev, vdev->viommu->blocked_domain_id, 0))
		dev_warn(dev, "cannot block the released endpoint\n");
	for (i = 0; i < fwspec->num_ids; i++)
		xa_cmpxchg_irq(&vdev->viommu->endpoints, fwspec->ids[i], vdev,
			       NULL, GFP_KERNEL);
	viommu_leave_domain(vdev);
	iommu_put_resv_regions(dev, &vdev->resv_regions);
	kfree(vdev);
}

static struct iommu_group *viommu_device_group(struct device *dev)
{
	if (dev_is_pci(dev))
		return pci_device_group(dev);
	return generic_device_group(dev);
}

static int viommu_of_xlate(struct device *dev, VIOMMU_OF_PHANDLE_ARGS *args)
{
	return iommu_fwspec_add_ids(dev, args->args, 1);
}

static bool viommu_capable(struct device *dev, enum iommu_cap cap)
{
	return cap == IOMMU_CAP_CACHE_COHERENCY ||
	       viommu_cap_is_deferred_flush(cap);
}

static const struct iommu_ops viommu_ops = {
	.capable		= viommu_capable,
#ifdef VIOMMU_HAVE_DOMAIN_ALLOC_PAGING
	/* 6.12, 7.x: the core names the endpoint a domain is for */
#ifdef VIOMMU_HAVE_DOMAIN_ALLOC_IDENTITY
	.domain_alloc_identity	= viommu_domain_alloc_identity,
#else
	.identity_domain	= &viommu_identity_domain,
#endif
	.domain_alloc_paging	= viommu_domain_alloc_paging,
	.blocked_domain		= &viommu_blocked_domain,
#else
	/* 6.1: one callback for every type, bound at the first attach */
	.domain_alloc		= viommu_domain_alloc_type,
#endif
#ifdef VIOMMU_HAVE_RELEASE_DOMAIN
	.release_domain		= &viommu_blocked_domain,
#endif
	.probe_device		= viommu_probe_device,
	.release_device		= viommu_release_device,
	.device_group		= viommu_device_group,
	.get_resv_regions	= viommu_get_resv_regions,
	.of_xlate		= viommu_of_xlate,
	.owner			= THIS_MODULE,
	/* Only used for domains the driver did not allocate: none */
	.default_domain_ops	= &viommu_classic_ops,
};

/* debugfs: statistics and the invalidation test knob */

static int viommu_stats_show(struct seq_file *s, void *unused)
{
	struct viommu_dev *viommu = s->private;
	struct viommu_stats *st = &viommu->stats;

	seq_printf(s, "mode: %s\n", viommu->table_mode ? "table" : "classic");
	seq_printf(s, "requests: %lld\n", atomic64_read(&st->requests));
	seq_printf(s, "syncs: %lld\n", atomic64_read(&st->syncs));
	seq_printf(s, "maps: %lld\n", atomic64_read(&st->maps));
	seq_printf(s, "unmaps: %lld\n", atomic64_read(&st->unmaps));
	seq_printf(s, "invalidations: %lld\n",
		   atomic64_read(&st->invalidations));
	seq_printf(s, "faults: %lld\n", atomic64_read(&st->faults));
	seq_printf(s, "faults_handled: %lld\n",
		   atomic64_read(&st->faults_handled));
	seq_printf(s, "table_domains: %lld\n",
		   atomic64_read(&st->table_domains));
	seq_printf(s, "classic_domains: %lld\n",
		   atomic64_read(&st->classic_domains));
	seq_printf(s, "bad_responses: %lld\n",
		   atomic64_read(&st->bad_responses));
	seq_printf(s, "last_fault: endpoint %u reason %u address %#llx\n",
		   READ_ONCE(viommu->last_fault_endpoint),
		   READ_ONCE(viommu->last_fault_reason),
		   READ_ONCE(viommu->last_fault_addr));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(viommu_stats);

static int viommu_skip_get(void *data, u64 *val)
{
	struct viommu_dev *viommu = data;

	*val = READ_ONCE(viommu->skip_invalidations);
	return 0;
}

/* N > 0: drop the next N invalidations. 0: send the dropped ones now. */
static int viommu_skip_set(void *data, u64 val)
{
	struct viommu_dev *viommu = data;
	unsigned long flags;

	if (val > VIOMMU_MAX_SKIPPED)
		return -EINVAL;
	if (!val) {
		viommu_replay_skipped(viommu);
		return 0;
	}
	spin_lock_irqsave(&viommu->skip_lock, flags);
	viommu->skip_invalidations = val;
	spin_unlock_irqrestore(&viommu->skip_lock, flags);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(viommu_skip_fops, viommu_skip_get, viommu_skip_set,
			 "%llu\n");

static int viommu_inject_short_get(void *data, u64 *val)
{
	*val = atomic_read(&((struct viommu_dev *)data)->inject_short);
	return 0;
}

static int viommu_inject_short_set(void *data, u64 val)
{
	atomic_set(&((struct viommu_dev *)data)->inject_short, min(val, 16ULL));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(viommu_inject_short_fops, viommu_inject_short_get,
			 viommu_inject_short_set, "%llu\n");

static int viommu_inject_status_get(void *data, u64 *val)
{
	*val = atomic_read(&((struct viommu_dev *)data)->inject_bad_status);
	return 0;
}

static int viommu_inject_status_set(void *data, u64 val)
{
	atomic_set(&((struct viommu_dev *)data)->inject_bad_status,
		   min(val, 16ULL));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(viommu_inject_status_fops, viommu_inject_status_get,
			 viommu_inject_status_set, "%llu\n");

static void viommu_debugfs_init(struct viommu_dev *viommu)
{
	viommu->debugfs = debugfs_create_dir(dev_name(viommu->dev),
					     viommu_debugfs_root);
	debugfs_create_file("stats", 0444, viommu->debugfs, viommu,
			    &viommu_stats_fops);
	debugfs_create_file_unsafe("skip_invalidations", 0600,
				   viommu->debugfs, viommu, &viommu_skip_fops);
	debugfs_create_file_unsafe("inject_short", 0600, viommu->debugfs,
				   viommu, &viommu_inject_short_fops);
	debugfs_create_file_unsafe("inject_bad_status", 0600, viommu->debugfs,
				   viommu, &viommu_inject_status_fops);
}

/* virtio driver */

static int viommu_read_config(struct viommu_dev *viommu)
{
	struct virtio_device *vdev = viommu->vdev;
	u64 input_start = 0, input_end = U64_MAX;
	unsigned int reserved_ids;

	virtio_cread_le(vdev, struct virtio_iommu_config, page_size_mask,
			&viommu->pgsize_bitmap);
	if (!viommu->pgsize_bitmap) {
		dev_err(viommu->dev, "empty page size mask\n");
		return -EINVAL;
	}

	viommu->first_domain = 0;
	viommu->last_domain = U32_MAX;
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.start,
				&input_start);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.end,
				&input_end);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_DOMAIN_RANGE,
				struct virtio_iommu_config, domain_range.start,
				&viommu->first_domain);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_DOMAIN_RANGE,
				struct virtio_iommu_config, domain_range.end,
				&viommu->last_domain);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_PROBE,
				struct virtio_iommu_config, probe_size,
				&viommu->probe_size);

	if (input_end <= input_start) {
		dev_err(viommu->dev, "empty input range\n");
		return -EINVAL;
	}
	viommu->geometry = (struct iommu_domain_geometry) {
		.aperture_start	= input_start,
		.aperture_end	= input_end,
		.force_aperture	= true,
	};

	viommu->map_flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
	if (virtio_has_feature(vdev, VIRTIO_IOMMU_F_MMIO))
		viommu->map_flags |= VIRTIO_IOMMU_MAP_F_MMIO;

	viommu->bypass_config = virtio_has_feature(vdev,
						   VIRTIO_IOMMU_F_BYPASS_CONFIG);
	viommu->table_mode = virtio_has_feature(vdev,
						VIRTIO_IOMMU_F_ATTACH_TABLE);

	/* The shared blocked domain, the bypass domain, and one to use */
	reserved_ids = viommu->bypass_config ? 2 : 1;
	if (viommu->last_domain < viommu->first_domain ||
	    viommu->last_domain - viommu->first_domain < reserved_ids) {
		dev_err(viommu->dev, "domain range %u-%u too small\n",
			viommu->first_domain, viommu->last_domain);
		return -EINVAL;
	}
	viommu->blocked_domain_id = viommu->first_domain++;
	if (viommu->bypass_config)
		viommu->identity_domain_id = viommu->first_domain++;
	return 0;
}

static int viommu_validate(struct virtio_device *vdev)
{
	if (viommu_force_classic)
		__virtio_clear_bit(vdev, VIRTIO_IOMMU_F_ATTACH_TABLE);
	return 0;
}

static void viommu_free_requests(struct viommu_dev *viommu)
{
	void *req;

	while ((req = virtqueue_detach_unused_buf(viommu->vqs[VIOMMU_REQUEST_VQ])))
		kfree(req);
}

static int viommu_probe(struct virtio_device *vdev)
{
	struct device *dev = &vdev->dev;
	struct viommu_dev *viommu;
	int ret;

	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1) ||
	    !virtio_has_feature(vdev, VIRTIO_IOMMU_F_MAP_UNMAP))
		return -ENODEV;

	viommu = devm_kzalloc(dev, sizeof(*viommu), GFP_KERNEL);
	if (!viommu)
		return -ENOMEM;

	viommu->dev = dev;
	viommu->vdev = vdev;
	spin_lock_init(&viommu->request_lock);
	spin_lock_init(&viommu->skip_lock);
	INIT_LIST_HEAD(&viommu->requests);
	ida_init(&viommu->domain_ids);
	ida_init(&viommu->asids);
	xa_init_flags(&viommu->endpoints, XA_FLAGS_LOCK_IRQ);
	/* A faulting device repeats itself: log 10 faults per 5 seconds */
	ratelimit_state_init(&viommu->fault_rs, 5 * HZ, 10);
	vdev->priv = viommu;

	ret = viommu_read_config(viommu);
	if (ret)
		return ret;

	ret = viommu_init_vqs(viommu);
	if (ret)
		return ret;

	virtio_device_ready(vdev);

	ret = viommu_fill_evtq(viommu);
	if (ret)
		goto err_reset;

	ret = iommu_device_sysfs_add(&viommu->iommu, dev, NULL, "%s",
				     virtio_bus_name(vdev));
	if (ret)
		goto err_reset;

	viommu_debugfs_init(viommu);

	mutex_lock(&viommu_devices_lock);
	list_add_tail(&viommu->list, &viommu_devices);
	mutex_unlock(&viommu_devices_lock);

	/* Probes the endpoints that were waiting for us (deferred probe). */
	viommu_compat_pin_module();
	ret = iommu_device_register(&viommu->iommu, &viommu_ops, dev->parent);
	if (ret)
		goto err_unlist;

	dev_info(dev, "%s mode, input range %#llx-%#llx, page sizes %#llx, domains %u-%u%s\n",
		 viommu->table_mode ? "table" : "classic",
		 viommu->geometry.aperture_start,
		 viommu->geometry.aperture_end, viommu->pgsize_bitmap,
		 viommu->first_domain, viommu->last_domain,
		 viommu->bypass_config ? ", bypass config" : "");
	return 0;

err_unlist:
	mutex_lock(&viommu_devices_lock);
	list_del(&viommu->list);
	mutex_unlock(&viommu_devices_lock);
	debugfs_remove_recursive(viommu->debugfs);
	iommu_device_sysfs_remove(&viommu->iommu);
err_reset:
	virtio_reset_device(vdev);
	viommu_free_requests(viommu);
	vdev->config->del_vqs(vdev);
	return ret;
}

static void viommu_remove(struct virtio_device *vdev)
{
	struct viommu_dev *viommu = vdev->priv;

	/*
	 * Only reached when the transport goes away (bind attributes are
	 * suppressed and every endpoint pins the module): endpoints are
	 * released, and parked in the blocked domain, before the reset.
	 */
	iommu_device_sysfs_remove(&viommu->iommu);
	iommu_device_unregister(&viommu->iommu);

	mutex_lock(&viommu_devices_lock);
	list_del(&viommu->list);
	mutex_unlock(&viommu_devices_lock);
	debugfs_remove_recursive(viommu->debugfs);

	virtio_reset_device(vdev);
	viommu_free_requests(viommu);
	vdev->config->del_vqs(vdev);
	ida_destroy(&viommu->domain_ids);
	ida_destroy(&viommu->asids);
	xa_destroy(&viommu->endpoints);
	dev_info(&vdev->dev, "removed\n");
}

static void viommu_config_changed(struct virtio_device *vdev)
{
	dev_warn(&vdev->dev, "config changed, ignored\n");
}

static const unsigned int viommu_features[] = {
	VIRTIO_IOMMU_F_INPUT_RANGE,
	VIRTIO_IOMMU_F_DOMAIN_RANGE,
	VIRTIO_IOMMU_F_MAP_UNMAP,
	VIRTIO_IOMMU_F_PROBE,
	VIRTIO_IOMMU_F_MMIO,
	VIRTIO_IOMMU_F_BYPASS_CONFIG,
	VIRTIO_IOMMU_F_ATTACH_TABLE,
};

static const struct virtio_device_id viommu_id_table[] = {
	{ VIRTIO_ID_IOMMU, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, viommu_id_table);

static struct virtio_driver viommu_driver = {
	.driver.name		= KBUILD_MODNAME,
	/* Unbinding under live DMA would free domains in use */
	.driver.suppress_bind_attrs = true,
	.id_table		= viommu_id_table,
	.feature_table		= viommu_features,
	.feature_table_size	= ARRAY_SIZE(viommu_features),
	.validate		= viommu_validate,
	.probe			= viommu_probe,
	.remove			= viommu_remove,
	.config_changed		= viommu_config_changed,
};

static int __init viommu_init(void)
{
	int ret;

	viommu_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = register_virtio_driver(&viommu_driver);
	if (ret)
		debugfs_remove_recursive(viommu_debugfs_root);
	return ret;
}
module_init(viommu_init);

static void __exit viommu_exit(void)
{
	unregister_virtio_driver(&viommu_driver);
	debugfs_remove_recursive(viommu_debugfs_root);
}
module_exit(viommu_exit);

MODULE_DESCRIPTION("virtio-iommu driver with Arm LPAE page-table sharing");
MODULE_LICENSE("GPL");
