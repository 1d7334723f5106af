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

/*
 * Exported by drivers/iommu/dma-iommu.c (the MSI doorbells of the interrupt
 * controller, e.g. the GICv3 ITS) but declared only in the private
 * drivers/iommu/dma-iommu.h.
 */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);

#endif
