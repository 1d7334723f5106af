/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-only shims: interfaces the module uses that are exported by the
 * kernel but not declared in an installed header, and kernel-version
 * differences. Nothing outside this file tests kernel versions.
 */
#ifndef VIOMMU_PGT_COMPAT_H
#define VIOMMU_PGT_COMPAT_H

#include <linux/list.h>

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
 * (feature tests, not version numbers, so backports are handled too):
 *
 * VIOMMU_HAVE_ATTACH_OLD: iommu_domain_ops.attach_dev takes the domain being
 * replaced (7.x), not just (domain, dev) (6.12). Attach callbacks are
 * declared with VIOMMU_ATTACH_PARAMS and use only domain and dev.
 *
 * VIOMMU_HAVE_DOMAIN_ALLOC_IDENTITY: iommu_ops.domain_alloc_identity lets the
 * driver choose bypass or an identity-mapped domain per device; without it
 * (6.12) only the static identity domain exists, which needs BYPASS_CONFIG.
 */
#ifdef VIOMMU_HAVE_ATTACH_OLD
#define VIOMMU_ATTACH_PARAMS	\
	struct iommu_domain *domain, struct device *dev, struct iommu_domain *old
#else
#define VIOMMU_ATTACH_PARAMS	struct iommu_domain *domain, struct device *dev
#endif

#endif
