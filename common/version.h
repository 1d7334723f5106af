/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The release both modules report in modinfo; dkms.conf's PACKAGE_VERSION
 * says the same (the harness's doc check compares them).
 */
#ifndef _IOMMU_NEST_VERSION_H
#define _IOMMU_NEST_VERSION_H

#define IOMMU_NEST_VERSION	"0.1.0"
#define IOMMU_NEST_AUTHOR	"The iommu-nest developers"

#endif /* _IOMMU_NEST_VERSION_H */
