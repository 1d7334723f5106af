// SPDX-License-Identifier: GPL-2.0
/*
 * The request and event virtqueues.
 *
 * Requests are queued without notifying the device and completed in batches
 * by viommu_sync_req(), so a burst of MAP, UNMAP or INVALIDATE requests costs
 * one notification. Every device status becomes an errno in one place, and a
 * response the device wrote short counts as an I/O error: its status byte
 * cannot be trusted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "viommu.h"

/*
 * One queued request. The driver-readable part and the device-writable part
 * share @buf; @write_offset splits them. When @writeback is set, the device
 * writable part is copied back to the caller's buffer on completion.
 */
struct viommu_request {
	struct list_head	list;
	void			*writeback;
	unsigned int		write_offset;
	unsigned int		len;
	u8			buf[] __counted_by(len);
};

static int viommu_status_to_errno(u8 status)
{
	switch (status) {
	case VIRTIO_IOMMU_S_OK:
		return 0;
	case VIRTIO_IOMMU_S_UNSUPP:
		return -EOPNOTSUPP;
	case VIRTIO_IOMMU_S_INVAL:
		return -EINVAL;
	case VIRTIO_IOMMU_S_RANGE:
		return -ERANGE;
	case VIRTIO_IOMMU_S_NOENT:
		return -ENOENT;
	case VIRTIO_IOMMU_S_FAULT:
		return -EFAULT;
	case VIRTIO_IOMMU_S_NOMEM:
		return -ENOMEM;
	case VIRTIO_IOMMU_S_IOERR:
	case VIRTIO_IOMMU_S_DEVERR:
	default:
		return -EIO;
	}
}

static struct virtio_iommu_req_tail *viommu_req_tail(void *buf, size_t len)
{
	return buf + len - sizeof(struct virtio_iommu_req_tail);
}

/*
 * Test knobs (debugfs inject_short / inject_bad_status): pretend the device
 * wrote nothing, or wrote a status no spec defines, for the next completions.
 */
static void viommu_inject_faults(struct viommu_dev *viommu,
				 struct viommu_request *req, unsigned int *len)
{
	if (likely(!atomic_read(&viommu->inject_short) &&
		   !atomic_read(&viommu->inject_bad_status)))
		return;
	if (atomic_add_unless(&viommu->inject_short, -1, 0))
		*len = 0;
	else if (atomic_add_unless(&viommu->inject_bad_status, -1, 0))
		viommu_req_tail(req->buf, req->len)->status = 0xff;
}

/*
 * Complete every request in flight. Called with request_lock held, so that
 * nobody adds requests behind our back; the device completes requests in any
 * order, we only return once the list is empty.
 *
 * Returns the first error of a completed request that nobody waits on (those
 * added with viommu_add_req()), so that the caller of iotlb_sync_map learns
 * that a MAP in its batch failed.
 */
static int __viommu_sync_req(struct viommu_dev *viommu)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_REQUEST_VQ];
	struct viommu_request *req;
	unsigned int len;
	int ret = 0, err;

	assert_spin_locked(&viommu->request_lock);

	if (list_empty(&viommu->requests))
		return 0;

	atomic64_inc(&viommu->stats.syncs);
	virtqueue_kick(vq);

	while (!list_empty(&viommu->requests)) {
		len = 0;
		req = virtqueue_get_buf(vq, &len);
		if (!req) {
			if (virtqueue_is_broken(vq))
				return -EIO;
			cpu_relax();
			continue;
		}

		viommu_inject_faults(viommu, req, &len);
		if (len != req->len - req->write_offset) {
			atomic64_inc(&viommu->stats.bad_responses);
			dev_err_ratelimited(viommu->dev,
					    "request %u: device wrote %u bytes, expected %u\n",
					    req->buf[0], len,
					    req->len - req->write_offset);
			viommu_req_tail(req->buf, req->len)->status =
				VIRTIO_IOMMU_S_IOERR;
			/* Nothing but the status is worth copying back */
			if (req->writeback)
				viommu_req_tail(req->writeback - req->write_offset,
						req->len)->status =
					VIRTIO_IOMMU_S_IOERR;
		} else if (req->writeback) {
			memcpy(req->writeback, req->buf + req->write_offset,
			       len);
		}

		if (!req->writeback) {
			err = viommu_status_to_errno(viommu_req_tail(req->buf,
								     req->len)->status);
			if (err) {
				dev_err_ratelimited(viommu->dev,
						    "request %u failed: %d\n",
						    req->buf[0], err);
				if (!ret)
					ret = err;
			}
		}

		list_del(&req->list);
		kfree(req);
	}

	return ret;
}

/*
 * Queue one request without notifying the device. @write_len bytes at the end
 * of @buf are written by the device (the tail, and the properties of PROBE).
 * With @writeback, they are copied back into @buf on completion: the caller
 * must then hold request_lock until the sync, as @buf may be on its stack.
 */
static int __viommu_add_req(struct viommu_dev *viommu, void *buf, size_t len,
			    size_t write_len, bool writeback)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_REQUEST_VQ];
	struct scatterlist out_sg, in_sg, *sgs[2] = { &out_sg, &in_sg };
	struct viommu_request *req;
	size_t write_offset;
	int ret;

	assert_spin_locked(&viommu->request_lock);

	if (write_len < sizeof(struct virtio_iommu_req_tail) ||
	    len <= write_len)
		return -EINVAL;
	write_offset = len - write_len;

	req = kzalloc(struct_size(req, buf, len), GFP_ATOMIC);
	if (!req)
		return -ENOMEM;

	req->len = len;
	req->write_offset = write_offset;
	if (writeback)
		req->writeback = buf + write_offset;
	memcpy(req->buf, buf, write_offset);

	sg_init_one(&out_sg, req->buf, write_offset);
	sg_init_one(&in_sg, req->buf + write_offset, write_len);

	ret = virtqueue_add_sgs(vq, sgs, 1, 1, req, GFP_ATOMIC);
	if (ret == -ENOSPC) {
		/* Ring full: complete what is there and retry once. */
		__viommu_sync_req(viommu);
		ret = virtqueue_add_sgs(vq, sgs, 1, 1, req, GFP_ATOMIC);
	}
	if (ret) {
		kfree(req);
		return ret;
	}

	atomic64_inc(&viommu->stats.requests);
	list_add_tail(&req->list, &viommu->requests);
	return 0;
}

/* Queue a request whose completion nobody waits on; see viommu_sync_req(). */
int viommu_add_req(struct viommu_dev *viommu, void *buf, size_t len)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = __viommu_add_req(viommu, buf, len,
			       sizeof(struct virtio_iommu_req_tail), false);
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	return ret;
}

/* Complete all queued requests; returns the first failure among them. */
int viommu_sync_req(struct viommu_dev *viommu)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = __viommu_sync_req(viommu);
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	return ret;
}

/*
 * Send one request, complete everything queued before it, and return the
 * request's own status as an errno. @write_len is the device-writable size.
 */
int viommu_send_req_sync_len(struct viommu_dev *viommu, void *buf, size_t len,
			     size_t write_len)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = __viommu_add_req(viommu, buf, len, write_len, true);
	if (!ret) {
		/* Others' failures are theirs: only our status counts here. */
		__viommu_sync_req(viommu);
		ret = viommu_status_to_errno(viommu_req_tail(buf, len)->status);
	}
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	return ret;
}

int viommu_send_req_sync(struct viommu_dev *viommu, void *buf, size_t len)
{
	return viommu_send_req_sync_len(viommu, buf, len,
					sizeof(struct virtio_iommu_req_tail));
}

/*
 * Test knob (debugfs skip_invalidations): drop the next N invalidations
 * (UNMAP in classic mode, INVALIDATE in table mode), so a test can prove that
 * a stale translation would be caught. Dropped invalidations are remembered
 * and sent when the knob is reset, so the IOVA space stays usable.
 */
bool viommu_skip_invalidation(struct viommu_dev *viommu,
			      const struct viommu_skipped_inval *inval)
{
	bool skip = false;
	unsigned long flags;

	if (likely(!READ_ONCE(viommu->skip_invalidations)))
		return false;

	spin_lock_irqsave(&viommu->skip_lock, flags);
	if (viommu->skip_invalidations &&
	    viommu->nr_skipped < VIOMMU_MAX_SKIPPED) {
		viommu->skip_invalidations--;
		viommu->skipped[viommu->nr_skipped++] = *inval;
		skip = true;
	}
	spin_unlock_irqrestore(&viommu->skip_lock, flags);

	if (skip)
		dev_warn(viommu->dev,
			 "test knob: skipped invalidation of domain %u [%#llx-%#llx]\n",
			 inval->domain_id, inval->start, inval->end);
	return skip;
}

void viommu_replay_skipped(struct viommu_dev *viommu)
{
	struct viommu_skipped_inval todo[VIOMMU_MAX_SKIPPED];
	unsigned long flags;
	unsigned int i, n;

	spin_lock_irqsave(&viommu->skip_lock, flags);
	viommu->skip_invalidations = 0;
	n = viommu->nr_skipped;
	memcpy(todo, viommu->skipped, n * sizeof(todo[0]));
	viommu->nr_skipped = 0;
	spin_unlock_irqrestore(&viommu->skip_lock, flags);

	/* The domain may be gone by now: errors are expected and harmless. */
	for (i = 0; i < n; i++) {
		if (todo[i].table)
			viommu_table_send_inval_all(viommu, todo[i].domain_id,
						    todo[i].asid);
		else
			viommu_classic_send_unmap(viommu, todo[i].domain_id,
						  todo[i].start, todo[i].end);
	}
	viommu_sync_req(viommu);
}

/* Event queue: fault reports */

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
 * Endpoint -> domain changes happen under the endpoint xarray's lock, so a
 * domain seen under that lock by the fault path cannot be freed meanwhile.
 */
void viommu_set_endpoint_domain(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain)
{
	unsigned long flags;

	xa_lock_irqsave(&vdev->viommu->endpoints, flags);
	vdev->vdomain = vdomain;
	xa_unlock_irqrestore(&vdev->viommu->endpoints, flags);
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

void viommu_event_handler(struct virtqueue *vq)
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
