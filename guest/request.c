// SPDX-License-Identifier: GPL-2.0
/*
 * The request virtqueue.
 *
 * Requests are queued without notifying the device and completed in batches,
 * so a burst of MAP or UNMAP requests costs one notification. Every device
 * status becomes an errno in one place, and a response the device wrote short
 * counts as an I/O error: its status byte cannot be trusted.
 *
 * Errors go to the request's owner: a synchronous sender gets its own status,
 * a queued request carries a pointer to where its failure is recorded (the
 * mapping its MAP created, the attach that replays mappings), and a queued
 * request that must not fail (UNMAP) breaks the viommu when it does.
 *
 * Waits are bounded by the request_timeout_ms parameter: a device that stops
 * answering, or a virtqueue that breaks, marks the viommu broken (one log
 * line) and every later request fails at once. Requests still in the queue
 * then stay allocated until the device is reset (remove): the device may
 * still write them.
 *
 * INVALIDATE goes through a preallocated request (@slot), so invalidating
 * never allocates; the slot is owned by whoever holds request_lock, and is
 * completed before the lock is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "viommu.h"

static unsigned int viommu_request_timeout_ms = 1000;
module_param_named(request_timeout_ms, viommu_request_timeout_ms, uint, 0644);
MODULE_PARM_DESC(request_timeout_ms,
		 "How long to wait for the device to complete a request before declaring it broken (ms, 1-10000; interrupts are off meanwhile)");

#define VIOMMU_REQ_SLOT		BIT(0)	/* the preallocated slot */
#define VIOMMU_REQ_WAITED	BIT(1)	/* its sender waits for it and frees it */
#define VIOMMU_REQ_CRITICAL	BIT(2)	/* failure breaks the viommu */

/*
 * One request. The driver-readable part and the device-writable part share
 * @buf; @write_offset splits them.
 */
struct viommu_request {
	struct list_head	list;
	int			*owner_err;
	unsigned int		flags;
	bool			done;
	int			err;
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

static struct virtio_iommu_req_tail *viommu_req_tail(struct viommu_request *req)
{
	return (void *)req->buf + req->len -
	       sizeof(struct virtio_iommu_req_tail);
}

#define VIOMMU_BROKEN		0	/* every request fails */
#define VIOMMU_RESET		1	/* ... and the device was reset */

bool viommu_is_broken(struct viommu_dev *viommu)
{
	return test_bit(VIOMMU_BROKEN, &viommu->broken);
}

/*
 * Whether the device may still hold translations and walks the driver could
 * not invalidate: broken, and not reset since.
 */
bool viommu_may_hold_stale(struct viommu_dev *viommu)
{
	return viommu_is_broken(viommu) &&
	       !test_bit(VIOMMU_RESET, &viommu->broken);
}

/*
 * Stop using the device: from now on every request fails with -EIO. Said
 * once, in one line. Callable with or without request_lock.
 */
void viommu_set_broken(struct viommu_dev *viommu, const char *why, int err)
{
	if (test_and_set_bit(VIOMMU_BROKEN, &viommu->broken))
		return;
	dev_err(viommu->dev,
		"IOMMU disabled: %s (%d); new mappings fail, page tables the device may walk are kept\n",
		why, err);
}

/*
 * The transport is going away: nothing may touch the virtqueues after this,
 * and the reset that follows makes the device forget every translation.
 */
void viommu_mark_removed(struct viommu_dev *viommu)
{
	unsigned long flags;

	spin_lock_irqsave(&viommu->request_lock, flags);
	set_bit(VIOMMU_BROKEN, &viommu->broken);
	set_bit(VIOMMU_RESET, &viommu->broken);
	spin_unlock_irqrestore(&viommu->request_lock, flags);
}

/* The device used @req and wrote @len bytes: record the outcome. */
static void viommu_complete_req(struct viommu_dev *viommu,
				struct viommu_request *req, unsigned int len)
{
	unsigned int expected = req->len - req->write_offset;
	int err;

	viommu_test_complete(viommu, req->buf[0], viommu_req_tail(req), &len);
	if (len != expected) {
		atomic64_inc(&viommu->stats.bad_responses);
		dev_err_ratelimited(viommu->dev,
				    "request %u: device wrote %u bytes, expected %u\n",
				    req->buf[0], len, expected);
		err = -EIO;
	} else {
		err = viommu_status_to_errno(viommu_req_tail(req)->status);
	}

	req->err = err;
	req->done = true;
	list_del(&req->list);
	if (err && req->owner_err && !READ_ONCE(*req->owner_err))
		WRITE_ONCE(*req->owner_err, err);
	/* NOENT: the domain is gone from the device, and its mappings too */
	if (err && err != -ENOENT && (req->flags & VIOMMU_REQ_CRITICAL))
		viommu_set_broken(viommu, "the device refused an UNMAP", err);
	if (!(req->flags & (VIOMMU_REQ_WAITED | VIOMMU_REQ_SLOT)))
		kfree(req);
}

static bool viommu_vq_broken(struct viommu_dev *viommu, struct virtqueue *vq)
{
	return virtqueue_is_broken(vq) || viommu_test_queue_broken(viommu);
}

static bool viommu_wait_done(struct viommu_dev *viommu,
			     struct viommu_request *req)
{
	return req ? req->done : list_empty(&viommu->requests);
}

/*
 * Kick the device and reap completions until @req (or, if NULL, every queued
 * request) is complete. Called with request_lock held, so interrupts are off:
 * the wait is bounded by request_timeout_ms, after which the viommu is
 * broken and nothing is reaped any more.
 */
static int viommu_wait_locked(struct viommu_dev *viommu,
			      struct viommu_request *req)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_REQUEST_VQ];
	unsigned int timeout = clamp(READ_ONCE(viommu_request_timeout_ms),
				     1U, 10000U);
	struct viommu_request *done;
	ktime_t deadline;
	unsigned int len;

	lockdep_assert_held(&viommu->request_lock);

	if (viommu_is_broken(viommu))
		return -EIO;
	if (viommu_wait_done(viommu, req))
		return 0;

	atomic64_inc(&viommu->stats.syncs);
	virtqueue_kick(vq);
	deadline = ktime_add_ms(ktime_get(), timeout);
	for (;;) {
		/* (A broken queue returns nothing: the test knob alike) */
		while (!viommu_test_queue_broken(viommu) &&
		       (done = virtqueue_get_buf(vq, &len)))
			if (!viommu_test_drop_completion(viommu))
				viommu_complete_req(viommu, done, len);
		if (viommu_wait_done(viommu, req))
			return 0;
		if (viommu_vq_broken(viommu, vq)) {
			viommu_set_broken(viommu, "request virtqueue broken",
					  -EIO);
			return -EIO;
		}
		if (ktime_after(ktime_get(), deadline)) {
			if (!req)
				req = list_first_entry(&viommu->requests,
						       struct viommu_request,
						       list);
			dev_err(viommu->dev,
				"device stopped answering: request type %u not completed in %u ms\n",
				req->buf[0], timeout);
			viommu_set_broken(viommu, "device not answering",
					  -ETIMEDOUT);
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
}

/*
 * Add @req to the virtqueue without notifying the device. With the ring
 * full, complete what is there and retry once.
 */
static int viommu_add_locked(struct viommu_dev *viommu,
			     struct viommu_request *req)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_REQUEST_VQ];
	struct scatterlist out_sg, in_sg, *sgs[2] = { &out_sg, &in_sg };
	int ret;

	lockdep_assert_held(&viommu->request_lock);

	if (viommu_is_broken(viommu))
		return -EIO;

	sg_init_one(&out_sg, req->buf, req->write_offset);
	sg_init_one(&in_sg, req->buf + req->write_offset,
		    req->len - req->write_offset);
	ret = virtqueue_add_sgs(vq, sgs, 1, 1, req, GFP_ATOMIC);
	if (ret == -ENOSPC) {
		ret = viommu_wait_locked(viommu, NULL);
		if (!ret)
			ret = virtqueue_add_sgs(vq, sgs, 1, 1, req, GFP_ATOMIC);
	}
	if (ret)
		return ret;

	req->done = false;
	req->err = 0;
	atomic64_inc(&viommu->stats.requests);
	list_add_tail(&req->list, &viommu->requests);
	viommu_test_added(viommu);
	return 0;
}

static struct viommu_request *viommu_alloc_req(struct viommu_dev *viommu,
					       const void *buf, size_t len,
					       size_t write_len, gfp_t gfp)
{
	struct viommu_request *req;

	if (write_len < sizeof(struct virtio_iommu_req_tail) ||
	    len <= write_len || len > U16_MAX)
		return ERR_PTR(-EINVAL);
	if (viommu_test_fail_alloc(viommu, *(const u8 *)buf))
		return ERR_PTR(-ENOMEM);
	req = kzalloc(struct_size(req, buf, len), gfp);
	if (!req)
		return ERR_PTR(-ENOMEM);
	req->len = len;
	req->write_offset = len - write_len;
	memcpy(req->buf, buf, req->write_offset);
	return req;
}

/*
 * Queue a request whose completion nobody waits on. A failure is written to
 * *@owner_err (if it holds no error yet); @critical: a failure breaks the
 * viommu. viommu_sync_req() pushes it.
 */
int viommu_queue_req(struct viommu_dev *viommu, const void *buf, size_t len,
		     int *owner_err, bool critical, gfp_t gfp)
{
	struct viommu_request *req;
	unsigned long flags;
	int ret;

	req = viommu_alloc_req(viommu, buf, len,
			       sizeof(struct virtio_iommu_req_tail), gfp);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->owner_err = owner_err;
	req->flags = critical ? VIOMMU_REQ_CRITICAL : 0;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = viommu_add_locked(viommu, req);
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	if (ret)
		kfree(req);
	return ret;
}

/*
 * Complete all queued requests. Returns 0 once the device answered them all
 * (their failures went to their owners), or the error that stopped the wait.
 */
int viommu_sync_req(struct viommu_dev *viommu)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = viommu_wait_locked(viommu, NULL);
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	return ret;
}

/*
 * Send one request and wait for it; returns its own status as an errno.
 * @write_len bytes at the end of @buf are written by the device and copied
 * back. Sleepable context only (the request is allocated with GFP_KERNEL).
 */
int viommu_send_req_sync_len(struct viommu_dev *viommu, void *buf, size_t len,
			     size_t write_len)
{
	struct viommu_request *req;
	unsigned long flags;
	int ret;

	req = viommu_alloc_req(viommu, buf, len, write_len, GFP_KERNEL);
	if (IS_ERR(req))
		return PTR_ERR(req);
	req->flags = VIOMMU_REQ_WAITED;

	spin_lock_irqsave(&viommu->request_lock, flags);
	ret = viommu_add_locked(viommu, req);
	if (ret) {
		spin_unlock_irqrestore(&viommu->request_lock, flags);
		kfree(req);
		return ret;
	}
	ret = viommu_wait_locked(viommu, req);
	if (!ret) {
		memcpy(buf + req->write_offset, req->buf + req->write_offset,
		       write_len);
		ret = req->err;
	}
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	/* Not completed: the device may still write it, keep it queued */
	if (req->done)
		kfree(req);
	return ret;
}

int viommu_send_req_sync(struct viommu_dev *viommu, void *buf, size_t len)
{
	return viommu_send_req_sync_len(viommu, buf, len,
					sizeof(struct virtio_iommu_req_tail));
}

/*
 * Send a small request through the preallocated slot and wait for it; never
 * allocates, any context. Returns the request's own status.
 */
int viommu_send_req_slot(struct viommu_dev *viommu, const void *buf,
			 size_t len)
{
	struct viommu_request *req = viommu->slot;
	size_t write_len = sizeof(struct virtio_iommu_req_tail);
	unsigned long flags;
	int ret;

	if (WARN_ON_ONCE(len > VIOMMU_SLOT_SIZE || len <= write_len))
		return -EINVAL;

	spin_lock_irqsave(&viommu->request_lock, flags);
	/* A slot the device never completed belongs to a broken viommu */
	if (viommu_is_broken(viommu) || WARN_ON_ONCE(!req->done)) {
		spin_unlock_irqrestore(&viommu->request_lock, flags);
		return -EIO;
	}
	req->len = len;
	req->write_offset = len - write_len;
	memcpy(req->buf, buf, req->write_offset);
	memset(req->buf + req->write_offset, 0, write_len);
	ret = viommu_add_locked(viommu, req);
	if (!ret)
		ret = viommu_wait_locked(viommu, req) ?: req->err;
	spin_unlock_irqrestore(&viommu->request_lock, flags);
	return ret;
}

int viommu_request_init(struct viommu_dev *viommu)
{
	struct viommu_request *slot;

	spin_lock_init(&viommu->request_lock);
	INIT_LIST_HEAD(&viommu->requests);
	slot = kzalloc(struct_size(slot, buf, VIOMMU_SLOT_SIZE), GFP_KERNEL);
	if (!slot)
		return -ENOMEM;
	slot->len = VIOMMU_SLOT_SIZE;
	slot->flags = VIOMMU_REQ_SLOT | VIOMMU_REQ_WAITED;
	slot->done = true;
	viommu->slot = slot;
	return 0;
}

/*
 * After the device reset (it writes nothing any more): free what it never
 * completed, and the slot.
 */
void viommu_request_free(struct viommu_dev *viommu)
{
	struct virtqueue *vq = viommu->vqs[VIOMMU_REQUEST_VQ];
	struct viommu_request *req, *next;

	/* Every request the device still holds is on @requests too */
	while (vq && virtqueue_detach_unused_buf(vq))
		;
	list_for_each_entry_safe(req, next, &viommu->requests, list) {
		list_del(&req->list);
		if (!(req->flags & VIOMMU_REQ_SLOT))
			kfree(req);
	}
	kfree(viommu->slot);
	viommu->slot = NULL;
}
