// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-iommu transport goes away (virtio-pci unbound from the
 * virtio-iommu PCI device) while a domain is still allocated: edu_dma holds
 * an unmanaged domain for edu (hold_domain: allocated and mapped, not
 * attached) across the removal and frees it afterwards. The endpoints'
 * drivers (edu_dma, virtio-pci of the disk) are unbound first: the IOMMU
 * core warns about endpoints with drivers when their IOMMU goes away. The
 * domain's free must not touch a freed viommu: the slab caches are validated
 * after it (slub_debug poisons freed objects, so a write after free is
 * reported as "Poison overwritten", which the harness counts as a kernel BUG
 * too). Leaves the VM without its IOMMU: run it last.
 */
#include <stdio.h>
#include <string.h>
#include <dirent.h>

#include "kselftest_harness.h"
#include "guest_util.h"

/* Modern virtio PCI devices: 1af4:(0x1040 + virtio ID) */
#define VIRTIO_IOMMU_PCI_DEVICE	0x1057
#define VIRTIO_BLK_PCI_DEVICE	0x1042
#define VIRTIO_PCI_UNBIND	"/sys/bus/pci/drivers/virtio-pci/unbind"

/* Ask SLUB to check every cache (poison, red zones); reports go to dmesg */
static int slab_validate_all(void)
{
	char path[300];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	dir = opendir("/sys/kernel/slab");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/validate",
			 d->d_name);
		if (!write_str(path, "1"))
			n++;
	}
	closedir(dir);
	return n;
}

FIXTURE(remove) {
	char bdf[64];
	char viommu_bdf[64];
	char viommu[64];
};

FIXTURE_SETUP(remove)
{
	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(0x1234, 0x11e8, self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, pci_find(0x1af4, VIRTIO_IOMMU_PCI_DEVICE, self->viommu_bdf,
			      sizeof(self->viommu_bdf)));
	ASSERT_EQ(0, viommu_name(self->viommu, sizeof(self->viommu)));
}

FIXTURE_TEARDOWN(remove)
{
}

TEST_F(remove, transport_removed_with_live_domain)
{
	char path[300], mode[32], line[128], blk[64];
	long long domains;
	int ret;

	ASSERT_EQ(0, viommu_mode(mode, sizeof(mode)));
	ASSERT_EQ(0, edu_cmd("roundtrip", "2 4096"));
	domains = viommu_stat(strcmp(mode, "table") ? "classic_domains" :
						    "table_domains");
	ASSERT_EQ(0, edu_cmd("hold_domain", "1"));
	EXPECT_EQ(domains + 1,
		  viommu_stat(strcmp(mode, "table") ? "classic_domains" :
						      "table_domains"));
	ASSERT_EQ(0, edu_bind(self->bdf, false));
	if (!pci_find(0x1af4, VIRTIO_BLK_PCI_DEVICE, blk, sizeof(blk)))
		ASSERT_EQ(0, write_str(VIRTIO_PCI_UNBIND, blk));

	TH_LOG("unbinding virtio-pci from %s (%s, %s mode)",
	       self->viommu_bdf, self->viommu, mode);
	ASSERT_EQ(0, write_str(VIRTIO_PCI_UNBIND, self->viommu_bdf));
	snprintf(path, sizeof(path), VIOMMU_DEBUGFS "/%s", self->viommu);
	EXPECT_FALSE(path_exists(path));
	snprintf(line, sizeof(line), "%s: removed", self->viommu);
	EXPECT_EQ(1, klog_contains(line));

	/* The domain outlived its IOMMU: freeing it now must be safe */
	ASSERT_EQ(0, write_str("/sys/kernel/debug/edu_dma_held", "0"));
	ret = slab_validate_all();
	TH_LOG("validated %d slab caches", ret);
	EXPECT_LT(0, ret);
	EXPECT_EQ(0, klog_contains("Poison overwritten"));
	EXPECT_EQ(0, klog_contains("BUG "));
}

TEST_HARNESS_MAIN
