// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-iommu driver with page-table sharing: the virtio driver (device
 * configuration, probe, remove), the viommu's lifetime and the module.
 *
 * The viommu is reference counted: the driver binding holds one reference
 * and every bound domain another, so a domain freed after the transport went
 * away (remove) still finds its viommu; by then every request fails.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>

#include "../common/version.h"
#include "viommu.h"

bool viommu_force_classic;
module_param_named(force_classic, viommu_force_classic, bool, 0444);
MODULE_PARM_DESC(force_classic,
		 "Never negotiate page-table sharing: MAP/UNMAP domains only");

static struct dentry *viommu_debugfs_root;

void viommu_get(struct viommu_dev *viommu)
{
	kref_get(&viommu->ref);
}

static void viommu_release(struct kref *ref)
{
	struct viommu_dev *viommu = container_of(ref, struct viommu_dev, ref);

	ida_destroy(&viommu->domain_ids);
	ida_destroy(&viommu->asids);
	xa_destroy(&viommu->endpoints);
	kfree(viommu);
}

void viommu_put(struct viommu_dev *viommu)
{
	kref_put(&viommu->ref, viommu_release);
}

/* virtio driver */

static int viommu_read_config(struct viommu_dev *viommu)
{
	struct virtio_device *vdev = viommu->vdev;
	u64 input_start = 0, input_end = U64_MAX;
	unsigned int reserved_ids;

	virtio_cread_le(vdev, struct virtio_iommu_config, page_size_mask,
			&viommu->pgsize_bitmap);
	if (!viommu->pgsize_bitmap) {
		dev_err(viommu->dev, "empty page size mask\n");
		return -EINVAL;
	}

	viommu->first_domain = 0;
	viommu->last_domain = U32_MAX;
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.start,
				&input_start);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_INPUT_RANGE,
				struct virtio_iommu_config, input_range.end,
				&input_end);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_DOMAIN_RANGE,
				struct virtio_iommu_config, domain_range.start,
				&viommu->first_domain);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_DOMAIN_RANGE,
				struct virtio_iommu_config, domain_range.end,
				&viommu->last_domain);
	virtio_cread_le_feature(vdev, VIRTIO_IOMMU_F_PROBE,
				struct virtio_iommu_config, probe_size,
				&viommu->probe_size);

	if (input_end <= input_start) {
		dev_err(viommu->dev, "empty input range\n");
		return -EINVAL;
	}
	viommu->geometry = (struct iommu_domain_geometry) {
		.aperture_start	= input_start,
		.aperture_end	= input_end,
		.force_aperture	= true,
	};

	viommu->map_flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
	if (virtio_has_feature(vdev, VIRTIO_IOMMU_F_MMIO))
		viommu->map_flags |= VIRTIO_IOMMU_MAP_F_MMIO;

	viommu->bypass_config = virtio_has_feature(vdev,
						   VIRTIO_IOMMU_F_BYPASS_CONFIG);
	viommu->table_mode = virtio_has_feature(vdev,
						VIRTIO_IOMMU_F_ATTACH_TABLE);

	/* The shared blocked domain, the bypass domain, and one to use */
	reserved_ids = viommu->bypass_config ? 2 : 1;
	if (viommu->last_domain < viommu->first_domain ||
	    viommu->last_domain - viommu->first_domain < reserved_ids) {
		dev_err(viommu->dev, "domain range %u-%u too small\n",
			viommu->first_domain, viommu->last_domain);
		return -EINVAL;
	}
	viommu->blocked_domain_id = viommu->first_domain++;
	if (viommu->bypass_config)
		viommu->identity_domain_id = viommu->first_domain++;
	return 0;
}

static int viommu_validate(struct virtio_device *vdev)
{
	if (viommu_force_classic)
		__virtio_clear_bit(vdev, VIRTIO_IOMMU_F_ATTACH_TABLE);
	return 0;
}

static struct viommu_dev *viommu_alloc(struct virtio_device *vdev)
{
	struct viommu_dev *viommu;

	viommu = kzalloc(sizeof(*viommu), GFP_KERNEL);
	if (!viommu)
		return NULL;
	if (viommu_request_init(viommu)) {
		kfree(viommu);
		return NULL;
	}
	kref_init(&viommu->ref);
	viommu->dev = &vdev->dev;
	viommu->vdev = vdev;
	ida_init(&viommu->domain_ids);
	ida_init(&viommu->asids);
	xa_init_flags(&viommu->endpoints, XA_FLAGS_LOCK_IRQ);
	/* A faulting device repeats itself: log 10 faults per 5 seconds */
	ratelimit_state_init(&viommu->fault_rs, 5 * HZ, 10);
	viommu_testing_init(viommu);
	return viommu;
}

/* Stop the device and free what it may have been writing */
static void viommu_reset(struct viommu_dev *viommu)
{
	struct virtio_device *vdev = viommu->vdev;

	viommu_mark_removed(viommu);
	virtio_reset_device(vdev);
	viommu_request_free(viommu);
	vdev->config->del_vqs(vdev);
	viommu->vqs[VIOMMU_REQUEST_VQ] = NULL;
	viommu->vqs[VIOMMU_EVENT_VQ] = NULL;
}

static void viommu_print_mode(struct viommu_dev *viommu)
{
	dev_info(viommu->dev, "%s mode, input range %#llx-%#llx, page sizes %#llx, domains %u-%u%s\n",
		 viommu->table_mode ? "table" : "classic",
		 viommu->geometry.aperture_start,
		 viommu->geometry.aperture_end, viommu->pgsize_bitmap,
		 viommu->first_domain, viommu->last_domain,
		 viommu->bypass_config ? ", bypass config" : "");
}

static int viommu_probe(struct virtio_device *vdev)
{
	struct viommu_dev *viommu;
	int ret;

	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1) ||
	    !virtio_has_feature(vdev, VIRTIO_IOMMU_F_MAP_UNMAP))
		return -ENODEV;

	viommu = viommu_alloc(vdev);
	if (!viommu)
		return -ENOMEM;
	vdev->priv = viommu;

	ret = viommu_read_config(viommu);
	if (ret)
		goto err_put;
	ret = viommu_init_vqs(viommu);
	if (ret)
		goto err_put;

	virtio_device_ready(vdev);

	ret = viommu_fill_evtq(viommu);
	if (ret)
		goto err_reset;
	ret = iommu_device_sysfs_add(&viommu->iommu, viommu->dev, NULL, "%s",
				     virtio_bus_name(vdev));
	if (ret)
		goto err_reset;

	viommu_debugfs_init(viommu, viommu_debugfs_root);
	viommu_register_dev(viommu);

	/* Probes the endpoints that were waiting for us (deferred probe). */
	viommu_compat_pin_module();
	ret = iommu_device_register(&viommu->iommu, &viommu_ops,
				    viommu->dev->parent);
	if (ret)
		goto err_unlist;

	viommu_print_mode(viommu);
	return 0;

err_unlist:
	viommu_unregister_dev(viommu);
	debugfs_remove_recursive(viommu->debugfs);
	iommu_device_sysfs_remove(&viommu->iommu);
err_reset:
	viommu_reset(viommu);
err_put:
	viommu_request_free(viommu);
	viommu_put(viommu);
	return ret;
}

static void viommu_remove(struct virtio_device *vdev)
{
	struct viommu_dev *viommu = vdev->priv;

	/*
	 * Only reached when the transport goes away (bind attributes are
	 * suppressed and every endpoint pins the module): endpoints are
	 * released, and parked in the blocked domain, before the reset.
	 * Domains still allocated (held by a driver that owns one) keep the
	 * viommu alive; their requests fail from now on.
	 */
	iommu_device_unregister(&viommu->iommu);
	/* After: releasing the endpoints removes their links to it */
	iommu_device_sysfs_remove(&viommu->iommu);
	viommu_unregister_dev(viommu);
	debugfs_remove_recursive(viommu->debugfs);

	viommu_reset(viommu);
	dev_info(&vdev->dev, "removed\n");
	viommu_put(viommu);
}

static void viommu_config_changed(struct virtio_device *vdev)
{
	dev_warn(&vdev->dev, "config changed, ignored\n");
}

static const unsigned int viommu_features[] = {
	VIRTIO_IOMMU_F_INPUT_RANGE,
	VIRTIO_IOMMU_F_DOMAIN_RANGE,
	VIRTIO_IOMMU_F_MAP_UNMAP,
	VIRTIO_IOMMU_F_PROBE,
	VIRTIO_IOMMU_F_MMIO,
	VIRTIO_IOMMU_F_BYPASS_CONFIG,
	VIRTIO_IOMMU_F_ATTACH_TABLE,
};

static const struct virtio_device_id viommu_id_table[] = {
	{ VIRTIO_ID_IOMMU, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, viommu_id_table);

static struct virtio_driver viommu_driver = {
	.driver.name		= KBUILD_MODNAME,
	/* Unbinding under live DMA would free domains in use */
	.driver.suppress_bind_attrs = true,
	.id_table		= viommu_id_table,
	.feature_table		= viommu_features,
	.feature_table_size	= ARRAY_SIZE(viommu_features),
	.validate		= viommu_validate,
	.probe			= viommu_probe,
	.remove			= viommu_remove,
	.config_changed		= viommu_config_changed,
};

static int __init viommu_init(void)
{
	int ret;

	viommu_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = register_virtio_driver(&viommu_driver);
	if (ret)
		debugfs_remove_recursive(viommu_debugfs_root);
	return ret;
}
module_init(viommu_init);

static void __exit viommu_exit(void)
{
	unregister_virtio_driver(&viommu_driver);
	debugfs_remove_recursive(viommu_debugfs_root);
}
module_exit(viommu_exit);

MODULE_DESCRIPTION("virtio-iommu driver with Arm LPAE page-table sharing");
MODULE_VERSION(IOMMU_NEST_VERSION);
MODULE_AUTHOR(IOMMU_NEST_AUTHOR);
MODULE_LICENSE("GPL");
