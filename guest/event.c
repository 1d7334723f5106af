// SPDX-License-Identifier: GPL-2.0
/*
 * The event virtqueue: fault reports, to the handler of the faulting
 * endpoint's domain or to the log.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/scatterlist.h>
#include <linux/virtio_config.h>

#include "viommu.h"

static const char *viommu_fault_reason(u8 reason)
{
	switch (reason) {
	case VIRTIO_IOMMU_FAULT_R_DOMAIN:
		return "domain";
	case VIRTIO_IOMMU_FAULT_R_MAPPING:
		return "mapping";
	default:
		return "unknown";
	}
}

/*
 * Offer an address fault to the handler of the endpoint's domain
 * (iommu_set_fault_handler, unmanaged domains). True if it was handled.
 * Called with the endpoint xarray locked.
 */
static bool viommu_fault_to_domain(struct viommu_endpoint *vdev, u32 flags,
				   u64 addr)
{
	int prot = flags & VIRTIO_IOMMU_FAULT_F_WRITE ? IOMMU_FAULT_WRITE :
							IOMMU_FAULT_READ;

	if (!vdev || !vdev->vdomain || !(flags & VIRTIO_IOMMU_FAULT_F_ADDRESS))
		return false;
	return !report_iommu_fault(&vdev->vdomain->domain, vdev->dev, addr,
				   prot);
}

static void viommu_report_fault(struct viommu_dev *viommu,
				const struct virtio_iommu_fault *fault)
{
	u32 flags = le32_to_cpu(fault->flags);
	u32 endpoint = le32_to_cpu(fault->endpoint);
	u64 addr = le64_to_cpu(fault->address);
	struct viommu_endpoint *vdev;
	const char *name = "unknown device";

	atomic64_inc(&viommu->stats.faults);
	WRITE_ONCE(viommu->last_fault_addr,
		   flags & VIRTIO_IOMMU_FAULT_F_ADDRESS ? addr : ~0ULL);
	WRITE_ONCE(viommu->last_fault_endpoint, endpoint);
	WRITE_ONCE(viommu->last_fault_reason, fault->reason);

	xa_lock(&viommu->endpoints);
	vdev = xa_load(&viommu->endpoints, endpoint);
	/* A domain with its own handler decides what the fault means */
	if (viommu_fault_to_domain(vdev, flags, addr)) {
		atomic64_inc(&viommu->stats.faults_handled);
		goto out_unlock;
	}
	if (!__ratelimit(&viommu->fault_rs))
		goto out_unlock;

	if (vdev)
		name = dev_name(vdev->dev);
	if (flags & VIRTIO_IOMMU_FAULT_F_ADDRESS)
		dev_err(viommu->dev,
			"%s fault from endpoint %u (%s) at %#llx [%s%s%s]\n",
			viommu_fault_reason(fault->reason), endpoint, name,
			addr, flags & VIRTIO_IOMMU_FAULT_F_READ ? "R" : "",
			flags & VIRTIO_IOMMU_FAULT_F_WRITE ? "W" : "",
			flags & VIRTIO_IOMMU_FAULT_F_EXEC ? "X" : "");
	else
		dev_err(viommu->dev, "%s fault from endpoint %u (%s)\n",
			viommu_fault_reason(fault->reason), endpoint, name);
out_unlock:
	xa_unlock(&viommu->endpoints);
}

/* The first word of an event: reason byte, then bits reserved for new types */
#define VIOMMU_EVENT_RESERVED	GENMASK(31, 8)

static void viommu_event_handler(struct virtqueue *vq)
{
	struct viommu_dev *viommu = vq->vdev->priv;
	struct virtio_iommu_fault *evt;
	struct scatterlist sg;
	unsigned int len;

	while ((evt = virtqueue_get_buf(vq, &len)) != NULL) {
		u32 head = le32_to_cpu(*(__le32 *)evt);

		if (len < sizeof(*evt)) {
			atomic64_inc(&viommu->stats.bad_responses);
			dev_err_ratelimited(viommu->dev,
					    "short event (%u bytes)\n", len);
		} else if (!(head & VIOMMU_EVENT_RESERVED)) {
			viommu_report_fault(viommu, evt);
		}

		sg_init_one(&sg, evt, sizeof(*evt));
		if (virtqueue_add_inbuf(vq, &sg, 1, evt, GFP_ATOMIC))
			dev_err_ratelimited(viommu->dev,
					    "cannot requeue event buffer\n");
	}
	virtqueue_kick(vq);
}

int viommu_init_vqs(struct viommu_dev *viommu)
{
	vq_callback_t *callbacks[VIOMMU_NR_VQS] = {
		[VIOMMU_EVENT_VQ] = viommu_event_handler,
	};
	static const char * const names[VIOMMU_NR_VQS] = {
		[VIOMMU_REQUEST_VQ] = "request",
		[VIOMMU_EVENT_VQ] = "event",
	};

	return viommu_compat_find_vqs(viommu->vdev, VIOMMU_NR_VQS, viommu->vqs,
				      callbacks, names);
}

int viommu_fill_evtq(struct viommu_dev *viommu)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_EVENT_VQ];
	struct scatterlist sg;
	unsigned int i;
	int ret;

	viommu->nr_events = vq->num_free;
	viommu->events = devm_kcalloc(viommu->dev, viommu->nr_events,
				      sizeof(*viommu->events), GFP_KERNEL);
	if (!viommu->events)
		return -ENOMEM;

	for (i = 0; i < viommu->nr_events; i++) {
		sg_init_one(&sg, &viommu->events[i], sizeof(viommu->events[i]));
		ret = virtqueue_add_inbuf(vq, &sg, 1, &viommu->events[i],
					  GFP_KERNEL);
		if (ret)
			return ret;
	}
	virtqueue_kick(vq);
	return 0;
}
