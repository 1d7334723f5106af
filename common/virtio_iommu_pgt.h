/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * virtio-iommu page-table extension: the guest owns the stage-1 page tables
 * of a domain and hands their configuration to the device (ATTACH_TABLE);
 * map and unmap never trap, changes become INVALIDATE requests.
 *
 * The specification is docs/protocol.md; this header is its only C form and
 * is shared by the guest module, the host module, the QEMU device model and
 * the tests. All fields are little-endian.
 *
 * The structures repeat the layout of the standard request head, tail and
 * probe property head (struct virtio_iommu_req_head, _req_tail,
 * _probe_property of include/uapi/linux/virtio_iommu.h) under their own
 * names, so the header stands alone: QEMU carries its own copy of the
 * standard header and the two must never meet in one translation unit.
 */
#ifndef _UAPI_VIRTIO_IOMMU_PGT_H
#define _UAPI_VIRTIO_IOMMU_PGT_H

#include <linux/types.h>

/*
 * Feature bit. Standard features are 0-6; the drafts by Brucker use 7 (MQ),
 * 8 (ATTACH_TABLE) and 9 (POSTED_MAP), and the open lazy-flush proposal
 * (virtio-spec #204) takes the next free bit. 23 is the last bit of the low
 * device-specific window (0-23) that every transport carries, the far end
 * from where standard allocation proceeds.
 */
#define VIRTIO_IOMMU_F_ATTACH_TABLE		23

/* Request types, valid only when VIRTIO_IOMMU_F_ATTACH_TABLE is negotiated */
#define VIRTIO_IOMMU_T_ATTACH_TABLE		0x06
#define VIRTIO_IOMMU_T_INVALIDATE		0x07

/*
 * Probe property type. The type field is 12 bits wide
 * (VIRTIO_IOMMU_PROBE_T_MASK) and the standard allocates upwards from 1
 * (RESV_MEM); 0xf00-0xfff is used here as a private range that neither the
 * standard nor the drafts reach. Reported only to a driver that negotiated
 * VIRTIO_IOMMU_F_ATTACH_TABLE, since older drivers log unknown properties.
 */
#define VIRTIO_IOMMU_PROBE_T_PGTF		0xf01
#define VIRTIO_IOMMU_PROBE_T_HOST_WINDOW	0xf02

/* Page-table formats */
#define VIRTIO_IOMMU_PGTF_ARM_LPAE		1

/* Granule bits of virtio_iommu_probe_pgtf.granules: the page size itself */
#define VIRTIO_IOMMU_PGTF_GRANULE_4K		0x1000U
#define VIRTIO_IOMMU_PGTF_GRANULE_16K		0x4000U
#define VIRTIO_IOMMU_PGTF_GRANULE_64K		0x10000U

/* virtio_iommu_probe_pgtf.flags */
#define VIRTIO_IOMMU_PGTF_F_HW_ACCESS		0x1U
#define VIRTIO_IOMMU_PGTF_F_HW_DIRTY		0x2U
#define VIRTIO_IOMMU_PGTF_F_RANGE_INVAL		0x4U

/**
 * struct virtio_iommu_pgt_head - request head (layout of virtio_iommu_req_head)
 * @type: VIRTIO_IOMMU_T_ATTACH_TABLE or VIRTIO_IOMMU_T_INVALIDATE
 * @reserved: must be zero
 */
struct virtio_iommu_pgt_head {
	__u8	type;
	__u8	reserved[3];
};

/**
 * struct virtio_iommu_pgt_tail - request tail (layout of virtio_iommu_req_tail)
 * @status: written by the device, VIRTIO_IOMMU_S_*
 * @reserved: written as zero by the device
 */
struct virtio_iommu_pgt_tail {
	__u8	status;
	__u8	reserved[3];
};

/**
 * struct virtio_iommu_pgt_prop_head - probe property head
 *	(layout of struct virtio_iommu_probe_property)
 * @type: property type, VIRTIO_IOMMU_PROBE_T_PGTF or _HOST_WINDOW
 * @length: size of the property in bytes, this head excluded
 */
struct virtio_iommu_pgt_prop_head {
	__le16	type;
	__le16	length;
};

/**
 * struct virtio_iommu_probe_pgtf - a page-table format the endpoint supports
 * @head: type VIRTIO_IOMMU_PROBE_T_PGTF, length 20
 * @format: VIRTIO_IOMMU_PGTF_ARM_LPAE
 * @ias: input address size in bits (largest usable 64 - TxSZ)
 * @oas: output address size in bits (largest usable TCR.IPS, table addresses
 *	included)
 * @granules: supported translation granules, VIRTIO_IOMMU_PGTF_GRANULE_*
 * @asid_bits: number of ASID bits the endpoint's IOMMU decodes (8 or 16)
 * @reserved0: zero
 * @flags: VIRTIO_IOMMU_PGTF_F_*: hardware access flag (TCR.HA allowed),
 *	hardware dirty state (TCR.HD allowed), range invalidation is cheap
 * @reserved1: zero
 *
 * One property per format an endpoint supports. Byte offsets: head 0,
 * format 4, ias 6, oas 7, granules 8, asid_bits 12, flags 16, size 24.
 */
struct virtio_iommu_probe_pgtf {
	struct virtio_iommu_pgt_prop_head	head;
	__le16	format;
	__u8	ias;
	__u8	oas;
	__le32	granules;
	__u8	asid_bits;
	__u8	reserved0[3];
	__le32	flags;
	__le32	reserved1;
};

/**
 * struct virtio_iommu_probe_host_window - guest-physical range where the host
 *	keeps structures the IOMMU reads for the endpoint through stage 2
 * @head: type VIRTIO_IOMMU_PROBE_T_HOST_WINDOW, length 20
 * @reserved: zero
 * @start: first guest-physical address of the window
 * @end: last guest-physical address of the window (inclusive)
 *
 * An output-address (guest-physical) range, unlike RESV_MEM's IOVA ranges:
 * no stage-1 mapping may output into it and no table may lie in it. At
 * most one per endpoint. Byte offsets: head 0, start 8, end 16, size 24.
 */
struct virtio_iommu_probe_host_window {
	struct virtio_iommu_pgt_prop_head	head;
	__le32	reserved;
	__le64	start;
	__le64	end;
};

/**
 * struct virtio_iommu_req_attach_table - attach an endpoint to a domain whose
 *	stage-1 page tables the driver owns
 * @head: type VIRTIO_IOMMU_T_ATTACH_TABLE
 * @domain: domain ID; created in table mode if it does not exist
 * @endpoint: endpoint ID
 * @format: VIRTIO_IOMMU_PGTF_ARM_LPAE
 * @reserved0: must be zero
 * @flags: must be zero
 * @asid: address space ID, below 1 << asid_bits (and below 256 if TCR.AS
 *	is clear)
 * @tcr: TCR_EL1 layout, only the fields named in arm_lpae_cfg.h
 * @ttbr0: root table of the lower VA range (TCR.EPD0 clear), else zero
 * @ttbr1: root table of the upper VA range (TCR.EPD1 clear), else zero
 * @mair: MAIR_EL1 layout, eight memory attributes
 * @reserved1: must be zero
 * @tail: status
 *
 * Byte offsets: head 0, domain 4, endpoint 8, format 12, flags 16, asid 20,
 * tcr 24, ttbr0 32, ttbr1 40, mair 48, reserved1 56, tail 60, size 64.
 */
struct virtio_iommu_req_attach_table {
	struct virtio_iommu_pgt_head	head;
	__le32	domain;
	__le32	endpoint;
	__le16	format;
	__le16	reserved0;
	__le32	flags;
	__le32	asid;
	__le64	tcr;
	__le64	ttbr0;
	__le64	ttbr1;
	__le64	mair;
	__u8	reserved1[4];
	struct virtio_iommu_pgt_tail	tail;
};

/* virtio_iommu_req_invalidate.scope */
#define VIRTIO_IOMMU_INVAL_S_ALL		0
#define VIRTIO_IOMMU_INVAL_S_ASID		1
#define VIRTIO_IOMMU_INVAL_S_VA			2

/* virtio_iommu_req_invalidate.flags */
#define VIRTIO_IOMMU_INVAL_F_LEAF		0x1U
#define VIRTIO_IOMMU_INVAL_F_CONFIG		0x2U

/**
 * struct virtio_iommu_req_invalidate - drop cached translations of a
 *	table-mode domain
 * @head: type VIRTIO_IOMMU_T_INVALIDATE
 * @scope: VIRTIO_IOMMU_INVAL_S_ALL (whole domain), _ASID (@asid) or _VA
 *	(@asid, range)
 * @granule: log2 of the range step in bytes, for scope VA only (else zero):
 *	at least the domain's translation granule, at most 48
 * @reserved0: must be zero
 * @flags: VIRTIO_IOMMU_INVAL_F_LEAF (only leaf entries changed),
 *	VIRTIO_IOMMU_INVAL_F_CONFIG (configuration caches too)
 * @domain: domain ID
 * @asid: ASID of the domain's table, for scopes ASID and VA (else zero)
 * @reserved1: must be zero
 * @virt_start: first address, aligned to 1 << @granule (scope VA, else zero)
 * @nr_pages: number of 1 << @granule steps, at least 1 (scope VA, else zero)
 * @reserved2: must be zero
 * @tail: status
 *
 * Byte offsets: head 0, scope 4, granule 5, flags 8, domain 12, asid 16,
 * virt_start 24, nr_pages 32, reserved2 40, tail 44, size 48.
 */
struct virtio_iommu_req_invalidate {
	struct virtio_iommu_pgt_head	head;
	__u8	scope;
	__u8	granule;
	__le16	reserved0;
	__le32	flags;
	__le32	domain;
	__le32	asid;
	__le32	reserved1;
	__le64	virt_start;
	__le64	nr_pages;
	__u8	reserved2[4];
	struct virtio_iommu_pgt_tail	tail;
};

#endif /* _UAPI_VIRTIO_IOMMU_PGT_H */
