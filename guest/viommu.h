/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of virtio_iommu_pgt, shared between the request layer
 * (request.c, event.c), the two domain flavours (classic MAP/UNMAP and shared
 * page table), endpoint probing, attach, the IOMMU core glue and the driver.
 *
 * Layering: request.c and event.c know requests, virtqueues and endpoints'
 * fault handlers only; they never call into the domain, attach or iommu
 * files. testing.c (test builds only) sits beside them.
 */
#ifndef VIOMMU_PGT_H
#define VIOMMU_PGT_H

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/interval_tree.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/ratelimit.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/virtio.h>
#include <linux/xarray.h>
#include <uapi/linux/virtio_iommu.h>

#include "compat.h"
#include "../common/arm_lpae_cfg.h"
#include "../common/virtio_iommu_pgt.h"

#define VIOMMU_REQUEST_VQ	0
#define VIOMMU_EVENT_VQ		1
#define VIOMMU_NR_VQS		2

/* Software MSI window when the device describes none (same as arm-smmu). */
#define VIOMMU_SW_MSI_BASE	0x8000000
#define VIOMMU_SW_MSI_LENGTH	0x100000

/* The largest request sent through the preallocated slot (INVALIDATE) */
#define VIOMMU_SLOT_SIZE	64

struct viommu_stats {
	atomic64_t	requests;
	atomic64_t	syncs;
	atomic64_t	maps;
	atomic64_t	unmaps;
	atomic64_t	invalidations;
	atomic64_t	inval_escalations;	/* VA -> ASID -> ALL retries */
	atomic64_t	faults;
	atomic64_t	faults_handled;	/* by a domain's fault handler */
	atomic64_t	bad_responses;
	atomic64_t	leaked_tables;	/* table bytes kept: device broken */
	atomic64_t	attach_rollbacks;
	/* Live paging domains of each kind (classic includes identity-mapped) */
	atomic64_t	table_domains;
	atomic64_t	classic_domains;
	/* Granules offered to / used by every table domain made since probe */
	atomic_t	granules_offered;
	atomic_t	granules_used;
};

struct viommu_request;

#ifdef VIOMMU_PGT_TESTING
/* Invalidations held back by the debugfs "skip_invalidations" knob. */
#define VIOMMU_MAX_SKIPPED	16

struct viommu_skipped_inval {
	u32	domain_id;
	u32	asid;
	u64	start;
	u64	end;
	bool	table;
};

struct viommu_testing {
	/* skip_lock protects the three fields below */
	spinlock_t			skip_lock;
	unsigned int			skip_invalidations;
	unsigned int			nr_skipped;
	struct viommu_skipped_inval	skipped[VIOMMU_MAX_SKIPPED];
	/* Treat the next N completions as malformed */
	atomic_t			inject_short;
	atomic_t			inject_bad_status;
	/* Fail the next N allocations of UNMAP/INVALIDATE requests */
	atomic_t			fail_inval_alloc;
	/* The next N ATTACH/ATTACH_TABLE completions fail after taking effect */
	atomic_t			fail_attach;
	atomic_t			fail_attach_after;	/* ... after N */
	/* The next N completions are ignored: a device that stops answering */
	atomic_t			drop_completions;
	/* The virtqueue acts broken after the next N requests are added */
	atomic_t			break_queue;
	bool				queue_broken;
};
#endif

struct viommu_dev {
	struct iommu_device		iommu;
	struct device			*dev;
	struct virtio_device		*vdev;
	struct list_head		list;		/* viommu_devices */
	/* Held by the driver binding and by every bound domain */
	struct kref			ref;

	struct virtqueue		*vqs[VIOMMU_NR_VQS];
	/*
	 * request_lock serialises the request virtqueue, @requests (added to
	 * the queue, not completed yet), @slot and @broken.
	 */
	spinlock_t			request_lock;
	struct list_head		requests;
	/* Preallocated request for INVALIDATE: invalidating never allocates */
	struct viommu_request		*slot;
	/* Set once: timeout, broken queue, failed invalidation, or removed */
	unsigned long			broken;
	struct virtio_iommu_fault	*events;
	unsigned int			nr_events;

	struct ida			domain_ids;
	struct ida			asids;
	/* Endpoint ID -> struct viommu_endpoint, for fault reports */
	struct xarray			endpoints;

	/* Device configuration, read once at probe */
	struct iommu_domain_geometry	geometry;
	u64				pgsize_bitmap;
	u32				first_domain;
	u32				last_domain;
	u32				identity_domain_id;
	u32				blocked_domain_id;
	u32				map_flags;
	u32				probe_size;
	bool				bypass_config;
	bool				table_mode;	/* ATTACH_TABLE negotiated */

	struct ratelimit_state		fault_rs;
	struct viommu_stats		stats;
	u64				last_fault_addr;
	u32				last_fault_endpoint;
	u32				last_fault_reason;

	struct dentry			*debugfs;
#ifdef VIOMMU_PGT_TESTING
	struct viommu_testing		testing;
#endif
};

/*
 * A guest-physical range where the host keeps structures its IOMMU reads
 * through stage 2 (HOST_WINDOW probe property): no stage-1 mapping may
 * output into it, no table may lie in it.
 */
struct viommu_host_window {
	bool				valid;
	/* Malformed, repeated or over RAM: the endpoint gets no table mode */
	bool				bad;
	u64				start;
	u64				end;	/* inclusive */
};

/* Whether [@start, @start + @len) meets @w (a range that wraps does) */
static inline bool viommu_in_host_window(const struct viommu_host_window *w,
					 u64 start, u64 len)
{
	if (!w->valid || !len || start > w->end)
		return false;
	return len - 1 > U64_MAX - start || start + len - 1 >= w->start;
}

static inline bool viommu_same_host_window(const struct viommu_host_window *a,
					   const struct viommu_host_window *b)
{
	return a->valid == b->valid && a->bad == b->bad &&
	       (!a->valid || (a->start == b->start && a->end == b->end));
}

/* Page-table format an endpoint accepts, from its PGTF probe property */
struct viommu_pgtf {
	bool				valid;
	struct arm_lpae_caps		caps;
	struct viommu_host_window	host_window;
};

/* What the device has the endpoint attached to */
enum viommu_attached {
	VIOMMU_ATTACHED_NONE,		/* nothing yet, or unknown */
	VIOMMU_ATTACHED_PAGING,		/* @vdomain */
	VIOMMU_ATTACHED_BYPASS,
	VIOMMU_ATTACHED_BLOCKED,
};

struct viommu_endpoint {
	struct device			*dev;
	struct viommu_dev		*viommu;
	/*
	 * Paging domain the endpoint is attached to, NULL otherwise. Written
	 * through viommu_set_endpoint_domain() only.
	 */
	struct viommu_domain		*vdomain;
	enum viommu_attached		attached;
	struct list_head		resv_regions;
	struct viommu_pgtf		pgtf;
	/* The table format was found unusable and said so in the log */
	bool				pgtf_refusal_logged;
};

struct viommu_mapping {
	struct interval_tree_node	iova;
	phys_addr_t			paddr;
	u32				flags;
	/* Failure of the MAP that created it, for iotlb_sync_map */
	int				err;
};

struct viommu_domain {
	struct iommu_domain		domain;
	/*
	 * NULL until the domain is bound to a viommu: at allocation where
	 * the core names a device, at the first attach otherwise (6.1). A
	 * bound domain holds a reference on its viommu.
	 */
	struct viommu_dev		*viommu;
	u32				id;
	u32				map_flags;

	/* lock protects @mappings and @nr_endpoints */
	spinlock_t			lock;
	struct rb_root_cached		mappings;	/* classic only */
	unsigned long			nr_endpoints;

	/* Table mode */
	bool				table;
	u32				asid;
	struct io_pgtable_ops		*pgtbl_ops;
	struct io_pgtable_cfg		pgtbl_cfg;
	struct arm_lpae_caps		caps;
	/* Of the endpoint it was made for; every endpoint must share it */
	struct viommu_host_window	host_window;
};

/* Count a bound paging domain in (+1) or out (-1) of the live statistics */
static inline void viommu_count_domain(struct viommu_domain *vdomain,
				       int delta)
{
	struct viommu_stats *st = &vdomain->viommu->stats;

	atomic64_add(delta, vdomain->table ? &st->table_domains :
					     &st->classic_domains);
}

static inline struct viommu_domain *to_viommu_domain(struct iommu_domain *d)
{
	return container_of(d, struct viommu_domain, domain);
}

extern bool viommu_force_classic;

/* main.c */
void viommu_put(struct viommu_dev *viommu);
void viommu_get(struct viommu_dev *viommu);

/* request.c */
int viommu_queue_req(struct viommu_dev *viommu, const void *buf, size_t len,
		     int *owner_err, bool critical, gfp_t gfp);
int viommu_sync_req(struct viommu_dev *viommu);
int viommu_send_req_sync(struct viommu_dev *viommu, void *buf, size_t len);
int viommu_send_req_sync_len(struct viommu_dev *viommu, void *buf, size_t len,
			     size_t write_len);
int viommu_send_req_slot(struct viommu_dev *viommu, const void *buf,
			 size_t len);
bool viommu_is_broken(struct viommu_dev *viommu);
bool viommu_may_hold_stale(struct viommu_dev *viommu);
void viommu_set_broken(struct viommu_dev *viommu, const char *why, int err);
void viommu_mark_removed(struct viommu_dev *viommu);
int viommu_request_init(struct viommu_dev *viommu);
void viommu_request_free(struct viommu_dev *viommu);

/* event.c */
int viommu_init_vqs(struct viommu_dev *viommu);
int viommu_fill_evtq(struct viommu_dev *viommu);

/* attach.c */
void viommu_set_endpoint_domain(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain);
int viommu_domain_bind(struct viommu_domain *vdomain,
		       struct viommu_endpoint *vdev, bool table);
int viommu_domain_bind_identity(struct viommu_domain *vdomain,
				struct viommu_endpoint *vdev);
int viommu_attach_paging(struct viommu_domain *vdomain, struct device *dev);
int viommu_attach_identity_unbound(struct iommu_domain *domain,
				   struct device *dev);
int viommu_attach_bypass(struct viommu_endpoint *vdev);
int viommu_attach_blocked_dev(struct device *dev);
void viommu_release_attach(struct viommu_endpoint *vdev);
void viommu_domain_unbind(struct viommu_domain *vdomain);

/* domain_classic.c */
void viommu_classic_init(struct viommu_domain *vdomain);
int viommu_classic_map_identity(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain);
int viommu_classic_replay(struct viommu_domain *vdomain, int *err);
void viommu_classic_free(struct viommu_domain *vdomain);
int viommu_classic_send_unmap(struct viommu_dev *viommu, u32 domain_id,
			      u64 start, u64 end);
void viommu_classic_domain_free(struct iommu_domain *domain);
extern const struct iommu_domain_ops viommu_classic_ops;

/* domain_table.c */
int viommu_table_init(struct viommu_domain *vdomain,
		      struct viommu_endpoint *vdev);
int viommu_table_attach(struct viommu_domain *vdomain,
			struct viommu_endpoint *vdev, unsigned int nr_ids,
			unsigned int *sent);
void viommu_table_free(struct viommu_domain *vdomain);
extern const struct iommu_domain_ops viommu_table_ops;

/* probe.c */
int viommu_probe_endpoint(struct viommu_dev *viommu,
			  struct viommu_endpoint *vdev);
void viommu_get_resv_regions(struct device *dev, struct list_head *head);
int viommu_parse_pgt_property(struct viommu_endpoint *vdev, u16 type,
			      const void *prop, size_t len);

/* iommu.c */
extern const struct iommu_ops viommu_ops;
void viommu_register_dev(struct viommu_dev *viommu);
void viommu_unregister_dev(struct viommu_dev *viommu);

/* debugfs.c */
void viommu_debugfs_init(struct viommu_dev *viommu, struct dentry *root);

/*
 * testing.c: test knobs, built only with VIOMMU_PGT_TEST=1 (see Kbuild);
 * without it, these are no-ops the compiler removes.
 */
#ifdef VIOMMU_PGT_TESTING
void viommu_testing_init(struct viommu_dev *viommu);
void viommu_testing_debugfs(struct viommu_dev *viommu);
bool viommu_test_skip_inval(struct viommu_dev *viommu, u32 domain_id, u32 asid,
			    u64 start, u64 end, bool table);
bool viommu_test_fail_alloc(struct viommu_dev *viommu, u8 type);
void viommu_test_complete(struct viommu_dev *viommu, u8 type, void *tail,
			  unsigned int *len);
bool viommu_test_drop_completion(struct viommu_dev *viommu);
void viommu_test_added(struct viommu_dev *viommu);
bool viommu_test_queue_broken(struct viommu_dev *viommu);
#else
static inline void viommu_testing_init(struct viommu_dev *viommu) { }
static inline void viommu_testing_debugfs(struct viommu_dev *viommu) { }
static inline bool viommu_test_skip_inval(struct viommu_dev *viommu,
					  u32 domain_id, u32 asid, u64 start,
					  u64 end, bool table)
{
	return false;
}

static inline bool viommu_test_fail_alloc(struct viommu_dev *viommu, u8 type)
{
	return false;
}

static inline void viommu_test_complete(struct viommu_dev *viommu, u8 type,
					void *tail, unsigned int *len)
{
}

static inline bool viommu_test_drop_completion(struct viommu_dev *viommu)
{
	return false;
}

static inline void viommu_test_added(struct viommu_dev *viommu)
{
}

static inline bool viommu_test_queue_broken(struct viommu_dev *viommu)
{
	return false;
}
#endif

#endif
