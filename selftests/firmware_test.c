// SPDX-License-Identifier: GPL-2.0
/*
 * firmware_test acpi|dt: the VM booted with the firmware description its
 * profile asks for, and the guest IOMMU's endpoints were found through it.
 *
 *   acpi  UEFI boot (/sys/firmware/efi), ACPI tables with a VIOT, no DT; the
 *         VIOT names the virtio-iommu PCI device and routes edu's BDF to it.
 *   dt    no ACPI tables, a DT whose PCI host bridge has an iommu-map.
 *
 * In both, edu sits behind the virtio-iommu's PCI device once
 * virtio_iommu_pgt is loaded. Each mode fails in the other's profile.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "guest_util.h"

#define VIOT_PATH	"/sys/firmware/acpi/tables/VIOT"
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define VIRTIO_VENDOR	0x1af4
#define VIRTIO_IOMMU_PCI_ID 0x1057	/* 0x1040 + virtio device ID 23 */

/* VIOT (ACPI 6.4 / virtio-iommu spec): node types and the fields we read */
#define VIOT_NODE_PCI_RANGE	1
#define VIOT_NODE_VIRTIO_PCI	3

static bool acpi_mode;

static uint16_t le16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* "0000:00:02.0" -> segment, 16-bit BDF */
static int parse_bdf(const char *name, unsigned int *seg, unsigned int *bdf)
{
	unsigned int s, b, d, f;

	if (sscanf(name, "%x:%x:%x.%x", &s, &b, &d, &f) != 4)
		return -1;
	*seg = s;
	*bdf = b << 8 | d << 3 | f;
	return 0;
}

static ssize_t read_viot(uint8_t *buf, size_t len)
{
	FILE *f = fopen(VIOT_PATH, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len, f);
	fclose(f);
	return n;
}

TEST(booted_with_expected_firmware)
{
	bool dt = path_exists("/sys/firmware/devicetree/base") ||
		  path_exists("/proc/device-tree");

	if (acpi_mode) {
		EXPECT_TRUE(path_exists("/sys/firmware/efi"));
		EXPECT_TRUE(path_exists("/sys/firmware/acpi/tables/DSDT"));
		EXPECT_TRUE(path_exists(VIOT_PATH));
		EXPECT_FALSE(dt);
	} else {
		EXPECT_TRUE(dt);
		EXPECT_FALSE(path_exists(VIOT_PATH));
	}
}

/*
 * acpi: the VIOT's virtio-pci IOMMU node is the virtio-iommu PCI device, and
 * a PCI range node sends edu's BDF to that node.
 * dt: the PCI host bridge carries an iommu-map.
 */
TEST(firmware_describes_the_iommu)
{
	unsigned int vseg, vbdf, eseg, ebdf, count, off, i, viommu_off = 0;
	char vname[64], ename[64];
	bool routed = false;
	uint8_t buf[4096];
	ssize_t len;

	ASSERT_EQ(0, pci_find(VIRTIO_VENDOR, VIRTIO_IOMMU_PCI_ID, vname,
			      sizeof(vname)));
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, ename, sizeof(ename)));
	if (!acpi_mode) {
		glob_t g;

		ASSERT_EQ(0, glob("/sys/firmware/devicetree/base/pcie@*/iommu-map",
				  0, NULL, &g));
		globfree(&g);
		return;
	}
	ASSERT_EQ(0, parse_bdf(vname, &vseg, &vbdf));
	ASSERT_EQ(0, parse_bdf(ename, &eseg, &ebdf));

	len = read_viot(buf, sizeof(buf));
	ASSERT_LE(48, len);
	ASSERT_EQ(0, memcmp(buf, "VIOT", 4));
	count = le16(buf + 36);
	off = le16(buf + 38);
	/* virtio-pci IOMMU node: segment at +4, BDF at +6 */
	for (i = 0; i < count && off + 4 <= len; i++) {
		unsigned int nlen = le16(buf + off + 2);

		ASSERT_LE(4, nlen);
		if (buf[off] == VIOT_NODE_VIRTIO_PCI && off + 8 <= len &&
		    le16(buf + off + 4) == vseg && le16(buf + off + 6) == vbdf)
			viommu_off = off;
		off += nlen;
	}
	ASSERT_NE(0, viommu_off) TH_LOG("no VIOT node for %s", vname);
	/* PCI range: segments at +8/+10, BDFs at +12/+14, output node at +16 */
	off = le16(buf + 38);
	for (i = 0; i < count && off + 4 <= len; i++) {
		const uint8_t *n = buf + off;

		if (n[0] == VIOT_NODE_PCI_RANGE && off + 18 <= len &&
		    le16(n + 8) <= eseg && eseg <= le16(n + 10) &&
		    le16(n + 12) <= ebdf && ebdf <= le16(n + 14) &&
		    le16(n + 16) == viommu_off)
			routed = true;
		off += le16(n + 2);
	}
	EXPECT_TRUE(routed) TH_LOG("no VIOT PCI range sends %s to %s", ename,
				   vname);
}

/* The IOMMU core put edu behind the virtio-iommu's PCI device */
TEST(endpoint_behind_virtio_iommu)
{
	char vname[64], ename[64], iommu[64];

	ASSERT_EQ(0, guest_modules_load());
	ASSERT_EQ(0, pci_find(VIRTIO_VENDOR, VIRTIO_IOMMU_PCI_ID, vname,
			      sizeof(vname)));
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, ename, sizeof(ename)));
	ASSERT_EQ(0, pci_iommu_name(ename, iommu, sizeof(iommu)));
	EXPECT_STREQ(vname, iommu);
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "acpi") && strcmp(argv[1], "dt"))) {
		fprintf(stderr, "usage: %s acpi|dt\n", argv[0]);
		return 2;
	}
	acpi_mode = !strcmp(argv[1], "acpi");
	return test_harness_run(1, argv);
}
