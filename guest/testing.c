// SPDX-License-Identifier: GPL-2.0
/*
 * Test knobs, built only with VIOMMU_PGT_TEST=1 (guest/Kbuild): never in a
 * dkms or plain build. /sys/kernel/debug/virtio_iommu_pgt/<device>/:
 *
 *   skip_invalidations  write N: drop the next N invalidations (UNMAP in
 *                       classic mode, INVALIDATE in table mode), so a test
 *                       can prove that a stale translation would be caught;
 *                       write 0: send the dropped ones now.
 *   inject_short        the next N completions count as if the device wrote
 *   inject_bad_status   nothing, or wrote status 0xff.
 *   fail_inval_alloc    the next N allocations of UNMAP or INVALIDATE
 *                       requests fail (invalidating must not depend on
 *                       them).
 *   fail_attach         the next N ATTACH/ATTACH_TABLE completions report
 *                       DEVERR although the device did the attach (the
 *                       driver must put the endpoint back)...
 *   fail_attach_after   ... once N more of them went through (the second
 *                       ID of an endpoint with two).
 *   drop_completions    the next N completions are ignored, as if the
 *                       device had stopped answering.
 *   break_queue         the request virtqueue acts broken (completions not
 *                       returned, virtqueue_is_broken) from the Nth next
 *                       request added on. (Not virtio_break_device(): its
 *                       lock may not nest in request_lock.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "viommu.h"

#define VIOMMU_TEST_MAX	16

void viommu_testing_init(struct viommu_dev *viommu)
{
	spin_lock_init(&viommu->testing.skip_lock);
}

bool viommu_test_skip_inval(struct viommu_dev *viommu, u32 domain_id, u32 asid,
			    u64 start, u64 end, bool table)
{
	struct viommu_testing *t = &viommu->testing;
	bool skip = false;
	unsigned long flags;

	if (likely(!READ_ONCE(t->skip_invalidations)))
		return false;

	spin_lock_irqsave(&t->skip_lock, flags);
	if (t->skip_invalidations && t->nr_skipped < VIOMMU_MAX_SKIPPED) {
		t->skip_invalidations--;
		t->skipped[t->nr_skipped++] = (struct viommu_skipped_inval) {
			.domain_id = domain_id,
			.asid = asid,
			.start = start,
			.end = end,
			.table = table,
		};
		skip = true;
	}
	spin_unlock_irqrestore(&t->skip_lock, flags);

	if (skip)
		dev_warn(viommu->dev,
			 "test knob: skipped invalidation of domain %u [%#llx-%#llx]\n",
			 domain_id, start, end);
	return skip;
}

/* Send an invalidation held back; the domain may be gone, errors are fine */
static void viommu_test_send_skipped(struct viommu_dev *viommu,
				     const struct viommu_skipped_inval *inval)
{
	struct virtio_iommu_req_invalidate inv = {
		.head.type	= VIRTIO_IOMMU_T_INVALIDATE,
		.scope		= VIRTIO_IOMMU_INVAL_S_ASID,
		.domain		= cpu_to_le32(inval->domain_id),
		.asid		= cpu_to_le32(inval->asid),
	};
	struct virtio_iommu_req_unmap unmap = {
		.head.type	= VIRTIO_IOMMU_T_UNMAP,
		.domain		= cpu_to_le32(inval->domain_id),
		.virt_start	= cpu_to_le64(inval->start),
		.virt_end	= cpu_to_le64(inval->end),
	};

	if (inval->table)
		viommu_send_req_slot(viommu, &inv, sizeof(inv));
	else
		viommu_send_req_sync(viommu, &unmap, sizeof(unmap));
}

static void viommu_test_replay_skipped(struct viommu_dev *viommu)
{
	struct viommu_testing *t = &viommu->testing;
	struct viommu_skipped_inval todo[VIOMMU_MAX_SKIPPED];
	unsigned long flags;
	unsigned int i, n;

	spin_lock_irqsave(&t->skip_lock, flags);
	t->skip_invalidations = 0;
	n = t->nr_skipped;
	memcpy(todo, t->skipped, n * sizeof(todo[0]));
	t->nr_skipped = 0;
	spin_unlock_irqrestore(&t->skip_lock, flags);

	for (i = 0; i < n; i++)
		viommu_test_send_skipped(viommu, &todo[i]);
}

/* Take one from a countdown knob; true if it was armed */
static bool viommu_test_take(atomic_t *knob)
{
	return atomic_read(knob) && atomic_add_unless(knob, -1, 0);
}

bool viommu_test_fail_alloc(struct viommu_dev *viommu, u8 type)
{
	if (type != VIRTIO_IOMMU_T_UNMAP && type != VIRTIO_IOMMU_T_INVALIDATE)
		return false;
	return viommu_test_take(&viommu->testing.fail_inval_alloc);
}

void viommu_test_added(struct viommu_dev *viommu)
{
	if (viommu_test_take(&viommu->testing.break_queue) &&
	    !atomic_read(&viommu->testing.break_queue))
		WRITE_ONCE(viommu->testing.queue_broken, true);
}

bool viommu_test_queue_broken(struct viommu_dev *viommu)
{
	return READ_ONCE(viommu->testing.queue_broken);
}

bool viommu_test_drop_completion(struct viommu_dev *viommu)
{
	return viommu_test_take(&viommu->testing.drop_completions);
}

void viommu_test_complete(struct viommu_dev *viommu, u8 type, void *tail,
			  unsigned int *len)
{
	struct viommu_testing *t = &viommu->testing;
	struct virtio_iommu_req_tail *status = tail;

	if (viommu_test_take(&t->inject_short))
		*len = 0;
	else if (viommu_test_take(&t->inject_bad_status))
		status->status = 0xff;
	else if ((type == VIRTIO_IOMMU_T_ATTACH ||
		  type == VIRTIO_IOMMU_T_ATTACH_TABLE) && !status->status &&
		 atomic_read(&t->fail_attach) &&
		 !viommu_test_take(&t->fail_attach_after) &&
		 viommu_test_take(&t->fail_attach))
		status->status = VIRTIO_IOMMU_S_DEVERR;
}

static int viommu_skip_get(void *data, u64 *val)
{
	struct viommu_dev *viommu = data;

	*val = READ_ONCE(viommu->testing.skip_invalidations);
	return 0;
}

/* N > 0: drop the next N invalidations. 0: send the dropped ones now. */
static int viommu_skip_set(void *data, u64 val)
{
	struct viommu_dev *viommu = data;
	unsigned long flags;

	if (val > VIOMMU_MAX_SKIPPED)
		return -EINVAL;
	if (!val) {
		viommu_test_replay_skipped(viommu);
		return 0;
	}
	spin_lock_irqsave(&viommu->testing.skip_lock, flags);
	viommu->testing.skip_invalidations = val;
	spin_unlock_irqrestore(&viommu->testing.skip_lock, flags);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(viommu_skip_fops, viommu_skip_get, viommu_skip_set,
			 "%llu\n");

/* The countdown knobs: an atomic_t each, written 0..VIOMMU_TEST_MAX */
static int viommu_knob_get(void *data, u64 *val)
{
	*val = atomic_read(data);
	return 0;
}

static int viommu_knob_set(void *data, u64 val)
{
	atomic_set(data, min_t(u64, val, VIOMMU_TEST_MAX));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(viommu_knob_fops, viommu_knob_get, viommu_knob_set,
			 "%llu\n");

void viommu_testing_debugfs(struct viommu_dev *viommu)
{
	struct viommu_testing *t = &viommu->testing;
	struct dentry *dir = viommu->debugfs;

	debugfs_create_file_unsafe("skip_invalidations", 0600, dir, viommu,
				   &viommu_skip_fops);
	debugfs_create_file_unsafe("inject_short", 0600, dir, &t->inject_short,
				   &viommu_knob_fops);
	debugfs_create_file_unsafe("inject_bad_status", 0600, dir,
				   &t->inject_bad_status, &viommu_knob_fops);
	debugfs_create_file_unsafe("fail_inval_alloc", 0600, dir,
				   &t->fail_inval_alloc, &viommu_knob_fops);
	debugfs_create_file_unsafe("fail_attach", 0600, dir, &t->fail_attach,
				   &viommu_knob_fops);
	debugfs_create_file_unsafe("fail_attach_after", 0600, dir,
				   &t->fail_attach_after, &viommu_knob_fops);
	debugfs_create_file_unsafe("drop_completions", 0600, dir,
				   &t->drop_completions, &viommu_knob_fops);
	debugfs_create_file_unsafe("break_queue", 0600, dir, &t->break_queue,
				   &viommu_knob_fops);
}
