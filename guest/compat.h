/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-only shims: interfaces the module uses that are exported by the
 * kernel but not declared in an installed header, and kernel-version
 * differences. Nothing outside this file tests kernel versions.
 */
#ifndef VIOMMU_PGT_COMPAT_H
#define VIOMMU_PGT_COMPAT_H

#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/virtio_config.h>

struct device;
struct iommu_domain;

/*
 * Exported by drivers/iommu/dma-iommu.c (the MSI doorbells of the interrupt
 * controller, e.g. the GICv3 ITS) but declared only in the private
 * drivers/iommu/dma-iommu.h.
 */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);

/*
 * Kernel interface differences are detected from the headers by guest/Kbuild
 * (feature tests, not version numbers, so backports are handled too). The
 * three kernels tested are 6.1 (Debian 12), 6.12 (Debian 12 backports) and
 * the 7.x test kernel.
 *
 * VIOMMU_HAVE_ATTACH_OLD: iommu_domain_ops.attach_dev takes the domain being
 * replaced (7.x), not just (domain, dev) (6.1, 6.12). Attach callbacks are
 * declared with VIOMMU_ATTACH_PARAMS and use only domain and dev.
 *
 * VIOMMU_HAVE_DOMAIN_ALLOC_IDENTITY: iommu_ops.domain_alloc_identity lets the
 * driver choose bypass or an identity-mapped domain per device; without it
 * (6.12) only the static identity domain exists, which needs BYPASS_CONFIG.
 *
 * VIOMMU_HAVE_DOMAIN_ALLOC_PAGING: iommu_ops.domain_alloc_paging(dev) and the
 * static identity_domain/blocked_domain (6.12, 7.x). Without them (6.1) one
 * domain_alloc(type) allocates every type without naming a device: main.c
 * binds such a domain to a viommu, and picks classic or table, at its first
 * attach. 6.1 needs no detach_dev: every group has a default domain there,
 * and the core only detaches (attaches NULL) groups without one.
 *
 * VIOMMU_HAVE_RELEASE_DOMAIN: the core attaches iommu_ops.release_domain
 * before release_device (6.12, 7.x); without it (6.1) release_device parks
 * the endpoint in the blocked domain itself.
 */
#ifdef VIOMMU_HAVE_ATTACH_OLD
#define VIOMMU_ATTACH_PARAMS	\
	struct iommu_domain *domain, struct device *dev, struct iommu_domain *old
#else
#define VIOMMU_ATTACH_PARAMS	struct iommu_domain *domain, struct device *dev
#endif

#ifdef VIOMMU_HAVE_RELEASE_DOMAIN
#define VIOMMU_CORE_BLOCKS_ON_RELEASE	true
#else
#define VIOMMU_CORE_BLOCKS_ON_RELEASE	false
#endif

/*
 * VIOMMU_HAVE_CAP_DEFERRED_FLUSH: drivers declare that they support lazy
 * (DMA-FQ) invalidation with IOMMU_CAP_DEFERRED_FLUSH (6.12, 7.x). 6.1 has no
 * such capability: a driver whose domain_alloc accepts IOMMU_DOMAIN_DMA_FQ
 * supports it.
 */
static inline bool viommu_cap_is_deferred_flush(enum iommu_cap cap)
{
#ifdef VIOMMU_HAVE_CAP_DEFERRED_FLUSH
	return cap == IOMMU_CAP_DEFERRED_FLUSH;
#else
	return false;
#endif
}

/* VIOMMU_HAVE_OF_XLATE_CONST: of_xlate takes const args (6.12, 7.x) */
#ifdef VIOMMU_HAVE_OF_XLATE_CONST
#define VIOMMU_OF_PHANDLE_ARGS	const struct of_phandle_args
#else
#define VIOMMU_OF_PHANDLE_ARGS	struct of_phandle_args
#endif

/*
 * VIOMMU_HAVE_SYNC_MAP_ERR: iotlb_sync_map returns an error (6.12, 7.x), so
 * classic map_pages only queues its MAP and the sync reports a failure. On
 * 6.1 iotlb_sync_map returns void: map_pages completes its own MAP instead
 * (VIOMMU_SYNC_IN_MAP) and fails if the device refused it; the core then
 * unmaps what it mapped, as 7.x does after a failed iotlb_sync_map.
 */
#ifdef VIOMMU_HAVE_SYNC_MAP_ERR
#define VIOMMU_SYNC_IN_MAP	false
#else
#define VIOMMU_SYNC_IN_MAP	true
#endif

/*
 * VIOMMU_HAVE_BUS_IOMMU_OPS: iommu_device_register() stores the iommu_ops in
 * the platform and PCI bus types (6.1) and nothing ever clears them, so the
 * core offers every device added later to our probe_device, even after the
 * IOMMU is unregistered. Once it has been registered, the module must stay:
 * take a reference that is never dropped.
 */
static inline void viommu_compat_pin_module(void)
{
#ifdef VIOMMU_HAVE_BUS_IOMMU_OPS
	__module_get(THIS_MODULE);
#endif
}

/*
 * VIOMMU_HAVE_PGTABLE_ALLOC: io_pgtable_cfg takes a custom page allocator
 * (6.12, 7.x), through which domain_table.c keeps the table pages a broken
 * device may still walk. Without it (6.1) io-pgtable frees them regardless.
 */
static inline void
viommu_compat_pgtable_allocator(struct io_pgtable_cfg *cfg,
				void *(*alloc)(void *cookie, size_t size,
					       gfp_t gfp),
				void (*free)(void *cookie, void *pages,
					     size_t size))
{
#ifdef VIOMMU_HAVE_PGTABLE_ALLOC
	cfg->alloc = alloc;
	cfg->free = free;
#endif
}

/*
 * VIOMMU_HAVE_VIRTQUEUE_INFO: virtio_find_vqs() takes an array of struct
 * virtqueue_info (6.11+); before, parallel arrays of callbacks and names.
 */
#define VIOMMU_COMPAT_MAX_VQS	2

static inline int viommu_compat_find_vqs(struct virtio_device *vdev,
					 unsigned int nvqs,
					 struct virtqueue *vqs[],
					 vq_callback_t *callbacks[],
					 const char * const names[])
{
#ifdef VIOMMU_HAVE_VIRTQUEUE_INFO
	struct virtqueue_info info[VIOMMU_COMPAT_MAX_VQS] = {};
	unsigned int i;

	if (nvqs > VIOMMU_COMPAT_MAX_VQS)
		return -EINVAL;
	for (i = 0; i < nvqs; i++) {
		info[i].name = names[i];
		info[i].callback = callbacks[i];
	}
	return virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
#else
	return virtio_find_vqs(vdev, nvqs, vqs, callbacks, names, NULL);
#endif
}

#endif
