// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU core glue: iommu_ops, endpoints (probe and release), domain
 * allocation, and the identity and blocked domains.
 *
 * Each paging domain is either classic (MAP/UNMAP requests,
 * domain_classic.c) or a shared table (io-pgtable-arm, ATTACH_TABLE and
 * INVALIDATE, domain_table.c); attach.c binds and attaches them. Identity
 * domains use the device's bypass when BYPASS_CONFIG is offered and an
 * identity-mapped classic domain otherwise; the blocked domain is an empty
 * domain every blocked endpoint shares.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "viommu.h"

static LIST_HEAD(viommu_devices);
static DEFINE_MUTEX(viommu_devices_lock);

void viommu_register_dev(struct viommu_dev *viommu)
{
	mutex_lock(&viommu_devices_lock);
	list_add_tail(&viommu->list, &viommu_devices);
	mutex_unlock(&viommu_devices_lock);
}

void viommu_unregister_dev(struct viommu_dev *viommu)
{
	mutex_lock(&viommu_devices_lock);
	list_del(&viommu->list);
	mutex_unlock(&viommu_devices_lock);
}

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

static int viommu_attach_blocked(VIOMMU_ATTACH_PARAMS)
{
	return viommu_attach_blocked_dev(dev);
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
 * domains are allocated per group too (attach.c binds them at their first
 * attach); a blocked domain needs no state.
 */
static int viommu_attach_identity_type(VIOMMU_ATTACH_PARAMS)
{
	return viommu_attach_identity_unbound(domain, dev);
}

static const struct iommu_domain_ops viommu_identity_unbound_ops __maybe_unused = {
	.attach_dev	= viommu_attach_identity_type,
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

/* Endpoint ID -> endpoint, for fault reports */
static int viommu_add_endpoint_ids(struct viommu_dev *viommu,
				   struct viommu_endpoint *vdev,
				   struct iommu_fwspec *fwspec)
{
	unsigned int i;
	int ret;

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
	return 0;

err_erase:
	while (i--)
		xa_cmpxchg_irq(&viommu->endpoints, fwspec->ids[i], vdev, NULL,
			       GFP_KERNEL);
	return ret;
}

static struct iommu_device *viommu_probe_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct viommu_endpoint *vdev;
	struct viommu_dev *viommu;
	int ret = 0;

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

	/*
	 * NOENT: the device translates no such endpoint (a PCI bridge the
	 * firmware's ID map covers): not ours, which must not fail the
	 * registration of the whole IOMMU as another error would.
	 */
	if (viommu->probe_size)
		ret = viommu_probe_endpoint(viommu, vdev);
	if (ret == -ENOENT)
		ret = -ENODEV;
	if (!ret)
		ret = viommu_add_endpoint_ids(viommu, vdev, fwspec);
	if (!ret)
		return &viommu->iommu;

	iommu_put_resv_regions(dev, &vdev->resv_regions);
	dev_iommu_priv_set(dev, NULL);
	kfree(vdev);
	return ERR_PTR(ret);
}

static void viommu_release_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	unsigned int i;

	viommu_release_attach(vdev);
	for (i = 0; i < fwspec->num_ids; i++)
		xa_cmpxchg_irq(&vdev->viommu->endpoints, fwspec->ids[i], vdev,
			       NULL, GFP_KERNEL);
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

const struct iommu_ops viommu_ops = {
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
