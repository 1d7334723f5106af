// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-iommu driver with page-table sharing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <uapi/linux/virtio_iommu.h>

static int viommu_pgt_probe(struct virtio_device *vdev)
{
	u64 pgsize_mask, in_start, in_end;

	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
		return -ENODEV;

	virtio_cread_le(vdev, struct virtio_iommu_config, page_size_mask,
			&pgsize_mask);
	if (!pgsize_mask) {
		dev_err(&vdev->dev, "device reports an empty page size mask\n");
		return -EINVAL;
	}
	in_start = 0;
	in_end = -1ULL;
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.start,
				&in_start);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.end,
				&in_end);
	dev_info(&vdev->dev, "page sizes %#llx, input range %#llx-%#llx\n",
		 pgsize_mask, in_start, in_end);
	return 0;
}

static void viommu_pgt_remove(struct virtio_device *vdev)
{
	dev_info(&vdev->dev, "removed\n");
}

static const unsigned int viommu_pgt_features[] = {
	VIRTIO_IOMMU_F_INPUT_RANGE,
};

static const struct virtio_device_id viommu_pgt_id_table[] = {
	{ VIRTIO_ID_IOMMU, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, viommu_pgt_id_table);

static struct virtio_driver viommu_pgt_driver = {
	.driver.name = KBUILD_MODNAME,
	.id_table = viommu_pgt_id_table,
	.feature_table = viommu_pgt_features,
	.feature_table_size = ARRAY_SIZE(viommu_pgt_features),
	.probe = viommu_pgt_probe,
	.remove = viommu_pgt_remove,
};
module_virtio_driver(viommu_pgt_driver);

MODULE_DESCRIPTION("virtio-iommu driver with Arm LPAE page-table sharing");
MODULE_LICENSE("GPL");
