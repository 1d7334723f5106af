/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface differences between the kernels the test modules build for
 * (7.x test kernel, Debian 6.12 and 6.1), detected from the headers by
 * selftests/kmod/Kbuild, not from version numbers.
 */
#ifndef EDU_DMA_COMPAT_H
#define EDU_DMA_COMPAT_H

#include <linux/iommu.h>
#include <linux/pci.h>

/* An unmanaged domain for @dev: per device since 6.11, per bus before */
static inline struct iommu_domain *edu_paging_domain_alloc(struct device *dev)
{
#ifdef EDU_HAVE_PAGING_DOMAIN_ALLOC
	return iommu_paging_domain_alloc(dev);
#else
	return iommu_domain_alloc(dev->bus) ?: ERR_PTR(-ENODEV);
#endif
}

/* iommu_map() takes the allocation flags since 6.3 */
#ifdef EDU_HAVE_IOMMU_MAP_GFP
#define edu_iommu_map(d, iova, pa, size, prot) \
	iommu_map(d, iova, pa, size, prot, GFP_KERNEL)
#else
#define edu_iommu_map(d, iova, pa, size, prot) \
	iommu_map(d, iova, pa, size, prot)
#endif

/* Managed request + mapping of BAR 0 (pcim_iomap_region() since 6.11) */
static inline void __iomem *edu_iomap_bar0(struct pci_dev *pdev)
{
#ifdef EDU_HAVE_PCIM_IOMAP_REGION
	return pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
#else
	int ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);

	return ret ? IOMEM_ERR_PTR(ret) : pcim_iomap_table(pdev)[0];
#endif
}

#endif
