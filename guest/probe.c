// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoint probing: the PROBE request and its properties (reserved memory
 * regions, the page-table formats an endpoint accepts), and the reserved
 * regions handed to the IOMMU core.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/slab.h>

#include "viommu.h"

static int viommu_add_resv_mem(struct viommu_endpoint *vdev,
			       const struct virtio_iommu_probe_resv_mem *mem,
			       size_t len)
{
	int prot = IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO;
	struct iommu_resv_region *region, *next;
	u64 start, end;

	if (len < sizeof(*mem))
		return -EINVAL;

	start = le64_to_cpu(mem->start);
	end = le64_to_cpu(mem->end);
	/* end - start + 1 must neither wrap nor overflow phys_addr_t/size_t */
	if (end < start || end - start == U64_MAX ||
	    (phys_addr_t)start != start || (phys_addr_t)end != end)
		return -EOVERFLOW;

	switch (mem->subtype) {
	case VIRTIO_IOMMU_RESV_MEM_T_MSI:
		region = iommu_alloc_resv_region(start, end - start + 1, prot,
						 IOMMU_RESV_MSI, GFP_KERNEL);
		break;
	default:
		dev_warn(vdev->dev, "unknown reserved memory subtype %u\n",
			 mem->subtype);
		fallthrough;
	case VIRTIO_IOMMU_RESV_MEM_T_RESERVED:
		region = iommu_alloc_resv_region(start, end - start + 1, 0,
						 IOMMU_RESV_RESERVED,
						 GFP_KERNEL);
		break;
	}
	if (!region)
		return -ENOMEM;

	/* Sorted by start: the identity map walks them in order. */
	list_for_each_entry(next, &vdev->resv_regions, list)
		if (next->start > region->start)
			break;
	list_add_tail(&region->list, &next->list);
	return 0;
}

static int viommu_parse_property(struct viommu_endpoint *vdev, u16 type,
				 const void *prop, size_t len)
{
	switch (type) {
	case VIRTIO_IOMMU_PROBE_T_RESV_MEM:
		return viommu_add_resv_mem(vdev, prop, len);
	default:
		return viommu_parse_pgt_property(vdev, type, prop, len);
	}
}

/*
 * Send PROBE for the endpoint's first ID (an endpoint with several IDs, e.g.
 * a PCI alias, is assumed to have consistent properties) and parse the
 * properties the device returns. A malformed property list stops the parsing
 * but not the probe: the properties read so far are kept.
 */
int viommu_probe_endpoint(struct viommu_dev *viommu,
			  struct viommu_endpoint *vdev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(vdev->dev);
	size_t write_len = viommu->probe_size +
			   sizeof(struct virtio_iommu_req_tail);
	size_t len = sizeof(struct virtio_iommu_req_probe) + write_len;
	struct virtio_iommu_req_probe *req;
	size_t cur = 0;
	int ret;

	if (!fwspec->num_ids)
		return -EINVAL;

	req = kzalloc(len, GFP_KERNEL);
	if (!req)
		return -ENOMEM;

	req->head.type = VIRTIO_IOMMU_T_PROBE;
	req->endpoint = cpu_to_le32(fwspec->ids[0]);

	ret = viommu_send_req_sync_len(viommu, req, len, write_len);
	if (ret)
		goto out_free;

	while (cur + sizeof(struct virtio_iommu_probe_property) <=
	       viommu->probe_size) {
		const struct virtio_iommu_probe_property *prop =
			(void *)req->properties + cur;
		u16 type = le16_to_cpu(prop->type) & VIRTIO_IOMMU_PROBE_T_MASK;
		size_t plen = le16_to_cpu(prop->length) + sizeof(*prop);

		if (type == VIRTIO_IOMMU_PROBE_T_NONE)
			break;
		if (cur + plen > viommu->probe_size) {
			dev_err(vdev->dev,
				"probe property %#x overruns the probe buffer\n",
				type);
			break;
		}
		if (viommu_parse_property(vdev, type, prop, plen))
			dev_warn(vdev->dev, "ignoring bad probe property %#x\n",
				 type);
		cur += plen;
	}

out_free:
	kfree(req);
	return ret;
}

void viommu_get_resv_regions(struct device *dev, struct list_head *head)
{
	int prot = IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO;
	struct viommu_endpoint *vdev = dev_iommu_priv_get(dev);
	struct iommu_resv_region *entry, *copy;
	bool have_msi = false;

	list_for_each_entry(entry, &vdev->resv_regions, list) {
		if (entry->type == IOMMU_RESV_MSI)
			have_msi = true;
		copy = iommu_alloc_resv_region(entry->start, entry->length,
					       entry->prot, entry->type,
					       GFP_KERNEL);
		if (!copy)
			return;
		list_add_tail(&copy->list, head);
	}

	/*
	 * Without a bypassing MSI window from the device, MSIs are translated
	 * like any DMA: give dma-iommu a window to map the doorbell in.
	 */
	if (!have_msi) {
		entry = iommu_alloc_resv_region(VIOMMU_SW_MSI_BASE,
						VIOMMU_SW_MSI_LENGTH, prot,
						IOMMU_RESV_SW_MSI, GFP_KERNEL);
		if (!entry)
			return;
		list_add_tail(&entry->list, head);
	}

	iommu_dma_get_resv_regions(dev, head);
}

/*
 * HOST_WINDOW: where the host keeps the endpoint's context descriptor. Said
 * once per endpoint, so that a refused mapping can be traced to it. A
 * malformed or second window, or one over RAM (where io-pgtable could place
 * a table), marks the endpoint unfit for table mode.
 */
static int viommu_parse_host_window(struct viommu_endpoint *vdev,
				    const struct virtio_iommu_probe_host_window *hw,
				    size_t len)
{
	struct viommu_host_window *w = &vdev->pgtf.host_window;
	u64 start, end;

	if (w->valid || w->bad || len < sizeof(*hw))
		goto bad;
	start = le64_to_cpu(hw->start);
	end = le64_to_cpu(hw->end);
	if (end < start || end - start == U64_MAX)
		goto bad;
	if (region_intersects(start, end - start + 1, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		dev_warn(vdev->dev, "host structures at [%#llx-%#llx] overlap RAM\n",
			 start, end);
		goto bad;
	}
	*w = (struct viommu_host_window) {
		.valid = true, .start = start, .end = end,
	};
	dev_info(vdev->dev,
		 "host structures at [%#llx-%#llx]: no mapping there\n",
		 start, end);
	return 0;
bad:
	*w = (struct viommu_host_window) { .bad = true };
	return -EINVAL;
}

/*
 * A page-table format the endpoint accepts. Only Arm LPAE is known; the
 * property's flag and granule bits share the encoding of arm_lpae_caps.
 */
int viommu_parse_pgt_property(struct viommu_endpoint *vdev, u16 type,
			      const void *prop, size_t len)
{
	const struct virtio_iommu_probe_pgtf *pgtf = prop;
	struct arm_lpae_caps *caps = &vdev->pgtf.caps;

	if (type == VIRTIO_IOMMU_PROBE_T_HOST_WINDOW)
		return viommu_parse_host_window(vdev, prop, len);
	/* Unknown property types are ignored, as the spec asks */
	if (type != VIRTIO_IOMMU_PROBE_T_PGTF)
		return 0;
	if (len < sizeof(*pgtf))
		return -EINVAL;
	if (le16_to_cpu(pgtf->format) != VIRTIO_IOMMU_PGTF_ARM_LPAE)
		return 0;

	*caps = (struct arm_lpae_caps) {
		.granules	= le32_to_cpu(pgtf->granules) &
				  (ARM_LPAE_GRANULE_4K | ARM_LPAE_GRANULE_16K |
				   ARM_LPAE_GRANULE_64K),
		.ias		= pgtf->ias,
		.oas		= pgtf->oas,
		.asid_bits	= pgtf->asid_bits,
		.flags		= le32_to_cpu(pgtf->flags) &
				  (ARM_LPAE_CAP_HA | ARM_LPAE_CAP_HD |
				   ARM_LPAE_CAP_RIL),
	};
	vdev->pgtf.valid = true;
	dev_dbg(vdev->dev, "LPAE tables: granules %#x, ias %u, oas %u, asid bits %u\n",
		caps->granules, caps->ias, caps->oas, caps->asid_bits);
	return 0;
}
