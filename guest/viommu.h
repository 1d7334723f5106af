/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of virtio_iommu_pgt, shared between the request layer,
 * the two domain flavours (classic MAP/UNMAP and shared page table), endpoint
 * probing and the driver glue.
 */
#ifndef VIOMMU_PGT_H
#define VIOMMU_PGT_H

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/idr.h>
#include <linux/interval_tree.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
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

/* Invalidations held back by the debugfs "skip_invalidations" knob. */
#define VIOMMU_MAX_SKIPPED	16

struct viommu_skipped_inval {
	u32	domain_id;
	u32	asid;
	u64	start;
	u64	end;
	bool	table;
};

struct viommu_stats {
	atomic64_t	requests;
	atomic64_t	syncs;
	atomic64_t	maps;
	atomic64_t	unmaps;
	atomic64_t	invalidations;
	atomic64_t	faults;
	atomic64_t	faults_handled;	/* by a domain's fault handler */
	atomic64_t	bad_responses;
	/* Live paging domains of each kind (classic includes identity-mapped) */
	atomic64_t	table_domains;
	atomic64_t	classic_domains;
};

struct viommu_dev {
	struct iommu_device		iommu;
	struct device			*dev;
	struct virtio_device		*vdev;
	struct list_head		list;		/* viommu_devices */

	struct virtqueue		*vqs[VIOMMU_NR_VQS];
	/*
	 * request_lock serialises the request virtqueue and @requests, the
	 * requests added to it and not yet completed.
	 */
	spinlock_t			request_lock;
	struct list_head		requests;
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

	/* Test knob: invalidations to drop (held back until reset) */
	spinlock_t			skip_lock;
	unsigned int			skip_invalidations;
	unsigned int			nr_skipped;
	struct viommu_skipped_inval	skipped[VIOMMU_MAX_SKIPPED];

	/* Test knobs: treat the next N completions as malformed */
	atomic_t			inject_short;
	atomic_t			inject_bad_status;

	struct dentry			*debugfs;
};

/* Page-table format an endpoint accepts, from its PGTF probe property */
struct viommu_pgtf {
	bool				valid;
	struct arm_lpae_caps		caps;
};

struct viommu_endpoint {
	struct device			*dev;
	struct viommu_dev		*viommu;
	/*
	 * Paging domain the endpoint is attached to, NULL otherwise. Written
	 * through viommu_set_endpoint_domain() only.
	 */
	struct viommu_domain		*vdomain;
	struct list_head		resv_regions;
	struct viommu_pgtf		pgtf;
	/* The table format was found unusable and said so in the log */
	bool				pgtf_refusal_logged;
};

struct viommu_mapping {
	struct interval_tree_node	iova;
	phys_addr_t			paddr;
	u32				flags;
};

struct viommu_domain {
	struct iommu_domain		domain;
	/*
	 * NULL until the domain is bound to a viommu: at allocation where
	 * the core names a device, at the first attach otherwise (6.1).
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

/* request.c */
int viommu_add_req(struct viommu_dev *viommu, void *buf, size_t len);
int viommu_sync_req(struct viommu_dev *viommu);
int viommu_send_req_sync(struct viommu_dev *viommu, void *buf, size_t len);
int viommu_send_req_sync_len(struct viommu_dev *viommu, void *buf, size_t len,
			     size_t write_len);
int viommu_init_vqs(struct viommu_dev *viommu);
int viommu_fill_evtq(struct viommu_dev *viommu);
void viommu_event_handler(struct virtqueue *vq);
void viommu_set_endpoint_domain(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain);
bool viommu_skip_invalidation(struct viommu_dev *viommu,
			      const struct viommu_skipped_inval *inval);
void viommu_replay_skipped(struct viommu_dev *viommu);

/* domain_classic.c */
int viommu_classic_init(struct viommu_domain *vdomain);
int viommu_classic_map_identity(struct viommu_endpoint *vdev,
				struct viommu_domain *vdomain);
int viommu_classic_replay(struct viommu_domain *vdomain);
void viommu_classic_free(struct viommu_domain *vdomain);
int viommu_classic_send_unmap(struct viommu_dev *viommu, u32 domain_id,
			      u64 start, u64 end);
void viommu_classic_domain_free(struct iommu_domain *domain);
extern const struct iommu_domain_ops viommu_classic_ops;

/* domain_table.c */
int viommu_table_init(struct viommu_domain *vdomain,
		      struct viommu_endpoint *vdev);
int viommu_table_attach(struct viommu_domain *vdomain,
			struct viommu_endpoint *vdev);
void viommu_table_free(struct viommu_domain *vdomain);
int viommu_table_send_inval_all(struct viommu_dev *viommu, u32 domain_id,
				u32 asid);
extern const struct iommu_domain_ops viommu_table_ops;

/* probe.c */
int viommu_probe_endpoint(struct viommu_dev *viommu,
			  struct viommu_endpoint *vdev);
void viommu_get_resv_regions(struct device *dev, struct list_head *head);
int viommu_parse_pgt_property(struct viommu_endpoint *vdev, u16 type,
			      const void *prop, size_t len);

/* main.c */
int viommu_attach_paging(struct viommu_domain *vdomain, struct device *dev);

#endif
