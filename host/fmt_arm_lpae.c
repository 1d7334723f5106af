// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-nest: Arm LPAE (VMSAv8-64) stage-1 tables on an Arm SMMUv3.
 *
 * Everything that knows an SMMUv3 register, context descriptor, stream table
 * entry, command or event layout lives here, behind struct vn_fmt_ops; the
 * configuration rules themselves are the shared copy in
 * common/arm_lpae_cfg.h. Field layouts: Arm IHI 0070 (SMMUv3) sections 6.3
 * (ID registers), 5.2 (STE), 5.4 (CD), 4.4 (TLB invalidation commands),
 * 7.3 (event records).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/string.h>

#include "../common/vfio_nest_lpae_field.h"
#include "nest.h"

/* SMMU_IDR0 */
#define SMMU_IDR0_S2P			BIT(0)
#define SMMU_IDR0_S1P			BIT(1)
#define SMMU_IDR0_TTF			GENMASK(3, 2)
#define SMMU_IDR0_TTF_AARCH64		BIT(1)		/* within TTF */
#define SMMU_IDR0_HTTU			GENMASK(7, 6)
#define SMMU_IDR0_HTTU_ACCESS		1
#define SMMU_IDR0_HTTU_ACCESS_DIRTY	2
#define SMMU_IDR0_ASID16		BIT(12)
/* SMMU_IDR3 */
#define SMMU_IDR3_FWB			BIT(8)
#define SMMU_IDR3_RIL			BIT(10)
/* SMMU_IDR5 */
#define SMMU_IDR5_OAS			GENMASK(2, 0)
#define SMMU_IDR5_GRAN4K		BIT(4)
#define SMMU_IDR5_GRAN16K		BIT(5)
#define SMMU_IDR5_GRAN64K		BIT(6)
#define SMMU_IDR5_VAX			GENMASK(11, 10)
#define SMMU_IDR5_VAX_52_BIT		1

/* Stream table entry, the part a vSTE may carry */
#define STE0_V				BIT_ULL(0)
#define STE0_CFG			GENMASK_ULL(3, 1)
#define STE0_CFG_S1_TRANS		5
#define STE0_S1FMT			GENMASK_ULL(5, 4)
#define STE0_S1FMT_LINEAR		0
#define STE0_S1CTXPTR			GENMASK_ULL(51, 6)
#define STE0_S1CDMAX			GENMASK_ULL(63, 59)
#define STE1_S1DSS			GENMASK_ULL(1, 0)
#define STE1_S1DSS_SSID0		2
#define STE1_S1CIR			GENMASK_ULL(3, 2)
#define STE1_S1COR			GENMASK_ULL(5, 4)
#define STE1_S1CSH			GENMASK_ULL(7, 6)
#define STE1_S1C_WBRA			1
#define STE1_S1CSH_ISH			3

/* Context descriptor (AArch64 stage 1) */
#define CD0_T0SZ			GENMASK_ULL(5, 0)
#define CD0_TG0				GENMASK_ULL(7, 6)
#define CD0_IR0				GENMASK_ULL(9, 8)
#define CD0_OR0				GENMASK_ULL(11, 10)
#define CD0_SH0				GENMASK_ULL(13, 12)
#define CD0_EPD0			BIT_ULL(14)
#define CD0_T1SZ			GENMASK_ULL(21, 16)
#define CD0_TG1				GENMASK_ULL(23, 22)
#define CD0_IR1				GENMASK_ULL(25, 24)
#define CD0_OR1				GENMASK_ULL(27, 26)
#define CD0_SH1				GENMASK_ULL(29, 28)
#define CD0_EPD1			BIT_ULL(30)
#define CD0_V				BIT_ULL(31)
#define CD0_IPS				GENMASK_ULL(34, 32)
#define CD0_AA64			BIT_ULL(41)
#define CD0_HD				BIT_ULL(42)
#define CD0_HA				BIT_ULL(43)
#define CD0_R				BIT_ULL(45)
#define CD0_A				BIT_ULL(46)
#define CD0_ASET			BIT_ULL(47)
#define CD0_ASID			GENMASK_ULL(63, 48)
#define CD1_TTB0			GENMASK_ULL(51, 4)
#define CD2_TTB1			GENMASK_ULL(51, 4)

/* Commands */
#define CMD0_OP				GENMASK_ULL(7, 0)
#define CMD_OP_CFGI_CD			0x05
#define CMD_OP_TLBI_NH_ALL		0x10
#define CMD_OP_TLBI_NH_ASID		0x11
#define CMD_OP_TLBI_NH_VA		0x12
#define CMD_CFGI0_SSID			GENMASK_ULL(31, 12)
#define CMD_CFGI0_SID			GENMASK_ULL(63, 32)
#define CMD_CFGI1_LEAF			BIT_ULL(0)
#define CMD_TLBI0_NUM			GENMASK_ULL(16, 12)
#define CMD_TLBI0_SCALE			GENMASK_ULL(24, 20)
#define CMD_TLBI0_ASID			GENMASK_ULL(63, 48)
#define CMD_TLBI1_LEAF			BIT_ULL(0)
#define CMD_TLBI1_TTL			GENMASK_ULL(9, 8)
#define CMD_TLBI1_TG			GENMASK_ULL(11, 10)
#define CMD_TLBI1_VA			GENMASK_ULL(63, 12)
#define CMD_TLBI_RANGE_NUM_MAX		31
/* SCALE is 5 bits: ranges below 2^32 pages, which also bounds the loop */
#define CMD_TLBI_RANGE_SCALE_BITS	32

/*
 * Without range invalidation, a VA entry longer than this becomes one
 * TLBI_NH_ASID: over-invalidation is always correct, a long command burst
 * is not worth it.
 */
#define VN_VA_CMDS_MAX			16

/* Event records */
#define EVT0_ID				GENMASK_ULL(7, 0)
#define EVT_ID_BAD_STE			0x04
#define EVT_ID_STREAM_DISABLED		0x06
#define EVT_ID_BAD_SUBSTREAMID		0x08
#define EVT_ID_BAD_CD			0x0a
#define EVT_ID_TRANSLATION		0x10
#define EVT_ID_ADDR_SIZE		0x11
#define EVT_ID_ACCESS			0x12
#define EVT_ID_PERMISSION		0x13
#define EVT1_RNW			BIT_ULL(35)
#define EVT1_S2				BIT_ULL(39)
#define EVT3_IPA			GENMASK_ULL(51, 12)

static void arm_lpae_caps_from_hw(struct vn_hw *hw)
{
	static const u8 oas_bits[] = { 32, 36, 40, 42, 44, 48, 52 };
	u32 idr0 = hw->idr[0], idr3 = hw->idr[3], idr5 = hw->idr[5];
	struct arm_lpae_caps *caps = &hw->caps;
	u32 oas = FIELD_GET(SMMU_IDR5_OAS, idr5);
	u32 httu = FIELD_GET(SMMU_IDR0_HTTU, idr0);

	memset(caps, 0, sizeof(*caps));
	if (idr5 & SMMU_IDR5_GRAN4K)
		caps->granules |= ARM_LPAE_GRANULE_4K;
	if (idr5 & SMMU_IDR5_GRAN16K)
		caps->granules |= ARM_LPAE_GRANULE_16K;
	if (idr5 & SMMU_IDR5_GRAN64K)
		caps->granules |= ARM_LPAE_GRANULE_64K;
	caps->ias = FIELD_GET(SMMU_IDR5_VAX, idr5) == SMMU_IDR5_VAX_52_BIT ?
		    52 : 48;
	caps->oas = oas < ARRAY_SIZE(oas_bits) ? oas_bits[oas] : 48;
	caps->asid_bits = idr0 & SMMU_IDR0_ASID16 ? 16 : 8;
	if (httu >= SMMU_IDR0_HTTU_ACCESS)
		caps->flags |= ARM_LPAE_CAP_HA;
	if (httu >= SMMU_IDR0_HTTU_ACCESS_DIRTY)
		caps->flags |= ARM_LPAE_CAP_HD;
	if (idr3 & SMMU_IDR3_RIL)
		caps->flags |= ARM_LPAE_CAP_RIL;

	/*
	 * arm-smmu-v3 offers a vIOMMU only with both stages and S2FWB (or
	 * firmware-declared coherent walks, which userspace cannot see; the
	 * attach itself is the final word then).
	 */
	hw->nesting = (idr0 & SMMU_IDR0_S1P) && (idr0 & SMMU_IDR0_S2P) &&
		      (FIELD_GET(SMMU_IDR0_TTF, idr0) & SMMU_IDR0_TTF_AARCH64) &&
		      (idr3 & SMMU_IDR3_FWB);
}

static int arm_lpae_validate(const struct vn_hw *hw,
			     const struct vn_table *table, u64 ipa_size,
			     u32 *field)
{
	const char *name = NULL;
	int ret;

	ret = arm_lpae_cfg_validate(&hw->caps, &table->lpae, ipa_size, &name);
	if (ret)
		*field = vfio_nest_lpae_field(name);
	return ret;
}

static void arm_lpae_encode_cd(const struct vn_hw *hw,
			       const struct vn_table *table, __le64 *cd)
{
	const struct arm_lpae_cfg *cfg = &table->lpae;
	u64 tcr = cfg->tcr;

	memset(cd, 0, VN_CD_BYTES);
	/* CD.TG0/TG1 use the TCR_EL1 encodings, so fields copy over as is. */
	cd[0] = cpu_to_le64(FIELD_PREP(CD0_T0SZ, ARM_LPAE_TCR_GET(tcr, T0SZ)) |
			    FIELD_PREP(CD0_TG0, ARM_LPAE_TCR_GET(tcr, TG0)) |
			    FIELD_PREP(CD0_IR0, ARM_LPAE_TCR_GET(tcr, IRGN0)) |
			    FIELD_PREP(CD0_OR0, ARM_LPAE_TCR_GET(tcr, ORGN0)) |
			    FIELD_PREP(CD0_SH0, ARM_LPAE_TCR_GET(tcr, SH0)) |
			    (ARM_LPAE_TCR_GET(tcr, EPD0) ? CD0_EPD0 : 0) |
			    FIELD_PREP(CD0_T1SZ, ARM_LPAE_TCR_GET(tcr, T1SZ)) |
			    FIELD_PREP(CD0_TG1, ARM_LPAE_TCR_GET(tcr, TG1)) |
			    FIELD_PREP(CD0_IR1, ARM_LPAE_TCR_GET(tcr, IRGN1)) |
			    FIELD_PREP(CD0_OR1, ARM_LPAE_TCR_GET(tcr, ORGN1)) |
			    FIELD_PREP(CD0_SH1, ARM_LPAE_TCR_GET(tcr, SH1)) |
			    (ARM_LPAE_TCR_GET(tcr, EPD1) ? CD0_EPD1 : 0) |
			    FIELD_PREP(CD0_IPS, ARM_LPAE_TCR_GET(tcr, IPS)) |
			    (ARM_LPAE_TCR_GET(tcr, HD) ? CD0_HD : 0) |
			    (ARM_LPAE_TCR_GET(tcr, HA) ? CD0_HA : 0) |
			    /*
			     * Record faults (R) so they become events, abort
			     * rather than stall (A; no stall model here), and
			     * keep the guest's ASIDs apart from the CPU's
			     * broadcast TLBIs (ASET).
			     */
			    CD0_V | CD0_AA64 | CD0_R | CD0_A | CD0_ASET |
			    FIELD_PREP(CD0_ASID, cfg->asid));
	cd[1] = cpu_to_le64(cfg->ttbr0 & CD1_TTB0);
	cd[2] = cpu_to_le64(cfg->ttbr1 & CD2_TTB1);
	cd[3] = cpu_to_le64(cfg->mair);
}

static void arm_lpae_encode_ste(u64 cd_ipa, __le64 *ste)
{
	/* One CD (S1CDMAX 0, no substreams), walked like the host's own. */
	ste[0] = cpu_to_le64(STE0_V |
			     FIELD_PREP(STE0_CFG, STE0_CFG_S1_TRANS) |
			     FIELD_PREP(STE0_S1FMT, STE0_S1FMT_LINEAR) |
			     (cd_ipa & STE0_S1CTXPTR));
	ste[1] = cpu_to_le64(FIELD_PREP(STE1_S1DSS, STE1_S1DSS_SSID0) |
			     FIELD_PREP(STE1_S1CIR, STE1_S1C_WBRA) |
			     FIELD_PREP(STE1_S1COR, STE1_S1C_WBRA) |
			     FIELD_PREP(STE1_S1CSH, STE1_S1CSH_ISH));
}

static void arm_lpae_cmd(struct vn_cmd *cmd, u64 d0, u64 d1)
{
	cmd->data[0] = cpu_to_le64(d0);
	cmd->data[1] = cpu_to_le64(d1);
}

/* Translation granule (log2) that covers the @upper or lower half of @cfg. */
static unsigned int arm_lpae_tg_shift(const struct arm_lpae_cfg *cfg,
				      bool upper)
{
	if (upper && !ARM_LPAE_TCR_GET(cfg->tcr, EPD1))
		return arm_lpae_tg1_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG1));
	if (!ARM_LPAE_TCR_GET(cfg->tcr, EPD0))
		return arm_lpae_tg0_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG0));
	return arm_lpae_tg1_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG1));
}

/* Is 1 << @shift a leaf size (page or block) of granule 1 << @tg? */
static bool arm_lpae_leaf_size_ok(unsigned int tg, unsigned int shift)
{
	unsigned int stride = tg - 3;

	if (!tg || shift < tg || (shift - tg) % stride)
		return false;
	/* Blocks exist at levels 1 (4K only) and 2, never at the root level 0. */
	return (shift - tg) / stride <= (tg == 12 ? 2 : 1);
}

/* Decode the granules once per attach, not once per invalidation entry. */
static void arm_lpae_prepare(const struct vn_hw *hw, struct vn_table *table)
{
	struct vn_inv_prep *p = &table->inv;
	unsigned int half, shift, tg;

	memset(p, 0, sizeof(*p));
	p->asid_limit = 1U << hw->caps.asid_bits;
	for (half = 0; half < 2; half++) {
		tg = arm_lpae_tg_shift(&table->lpae, half);
		p->tg[half] = tg;
		for (shift = 0; shift < 64; shift++)
			if (arm_lpae_leaf_size_ok(tg, shift))
				p->leaf_ok[half] |= BIT_ULL(shift);
		if (tg && (hw->caps.flags & ARM_LPAE_CAP_RIL))
			p->d1[half] = FIELD_PREP(CMD_TLBI1_TG, (tg - 10) / 2);
	}
}

/* One TLBI_NH_ASID: everything of @asid, the fallback of a range too wide. */
static int arm_lpae_inv_asid(u32 asid, struct vn_cmd *cmds)
{
	arm_lpae_cmd(&cmds[0], FIELD_PREP(CMD0_OP, CMD_OP_TLBI_NH_ASID) |
			       FIELD_PREP(CMD_TLBI0_ASID, asid), 0);
	return 1;
}

/*
 * TLBI_NH_VA commands for [iova, iova + (nr << shift)) in the VA half
 * @upper, as arm-smmu-v3 does.
 */
static int arm_lpae_inv_va(const struct vn_hw *hw, const struct vn_table *t,
			   const struct vfio_nest_inv_entry *e, bool upper,
			   struct vn_cmd *cmds)
{
	unsigned int tg = t->inv.tg[upper], gs = e->granule_shift;
	bool leaf = e->flags & VFIO_NEST_INV_LEAF;
	u64 d0 = FIELD_PREP(CMD0_OP, CMD_OP_TLBI_NH_VA) |
		 FIELD_PREP(CMD_TLBI0_ASID, e->asid);
	u64 d1 = t->inv.d1[upper] | (leaf ? CMD_TLBI1_LEAF : 0);
	u64 iova = e->iova, num_pages;
	int n = 0;

	if (!(hw->caps.flags & ARM_LPAE_CAP_RIL)) {
		if (e->nr_pages > VN_VA_CMDS_MAX)
			return arm_lpae_inv_asid(e->asid, cmds);
		for (n = 0; n < e->nr_pages; n++)
			arm_lpae_cmd(&cmds[n], d0,
				     d1 | ((iova + ((u64)n << gs)) &
					   CMD_TLBI1_VA));
		return n;
	}

	/*
	 * Range form: TG = granule (in d1 already), TTL = level of the leaves
	 * if known: 3 for pages, 2 and 1 for the block sizes above them.
	 */
	num_pages = e->nr_pages << (gs - tg);
	if (leaf)
		d1 |= FIELD_PREP(CMD_TLBI1_TTL,
				 gs == tg ? 3 : gs == 2 * tg - 3 ? 2 : 1);
	else if ((num_pages & CMD_TLBI_RANGE_NUM_MAX) == 1)
		num_pages++;	/* avoid SCALE = NUM = 0, as arm-smmu-v3 does */

	/*
	 * SCALE is 5 bits: a range of 2^32 pages or more cannot be encoded,
	 * and over-invalidating its ASID is allowed where under-invalidating
	 * is not.
	 */
	if (num_pages >> CMD_TLBI_RANGE_SCALE_BITS)
		return arm_lpae_inv_asid(e->asid, cmds);

	while (num_pages) {
		unsigned long scale = __ffs64(num_pages);
		u64 num = (num_pages >> scale) & CMD_TLBI_RANGE_NUM_MAX;

		arm_lpae_cmd(&cmds[n++],
			     d0 | FIELD_PREP(CMD_TLBI0_SCALE, scale) |
			     FIELD_PREP(CMD_TLBI0_NUM, num - 1),
			     d1 | (iova & CMD_TLBI1_VA));
		iova += num << (scale + tg);
		num_pages -= num << scale;
	}
	return n;
}

/*
 * Is @e another one-page entry of the kind @c holds? Then it differs only
 * by its address, which must be aligned and in the same VA half (a
 * one-page range cannot wrap), and its command is @c's with that address.
 */
static bool arm_lpae_inv_cached(const struct vn_inv_cache *c,
				const struct vfio_nest_inv_entry *e)
{
	return c && c->valid && e->nr_pages == 1 &&
	       e->scope == VFIO_NEST_INV_SCOPE_VA && e->flags == c->flags &&
	       e->asid == c->asid && e->granule_shift == c->shift &&
	       !e->__reserved && (e->iova >> 63) == c->upper &&
	       !(e->iova & (BIT_ULL(c->shift) - 1));
}

static int arm_lpae_invalidate(const struct vn_hw *hw,
			       const struct vn_table *table, u32 vsid,
			       const struct vfio_nest_inv_entry *e,
			       struct vn_inv_cache *cache, struct vn_cmd *cmds,
			       u32 *field)
{
	const struct vn_inv_prep *p = &table->inv;
	bool upper;
	int n = 0;

	if (arm_lpae_inv_cached(cache, e)) {
		arm_lpae_cmd(cmds, cache->d0, cache->d1 | (e->iova & CMD_TLBI1_VA));
		return 1;
	}

	if (e->flags & ~(VFIO_NEST_INV_LEAF | VFIO_NEST_INV_CONFIG)) {
		*field = VFIO_NEST_FIELD_ENTRY_FLAGS;
		return -EOPNOTSUPP;
	}
	if (e->__reserved) {
		*field = VFIO_NEST_FIELD_ENTRY_RESERVED;
		return -EINVAL;
	}

	switch (e->scope) {
	case VFIO_NEST_INV_SCOPE_VA:
		if (e->asid >= p->asid_limit) {
			*field = VFIO_NEST_FIELD_ENTRY_ASID;
			return -ERANGE;
		}
		upper = e->iova >> 63;
		if (e->granule_shift >= 64 ||
		    !(p->leaf_ok[upper] & BIT_ULL(e->granule_shift))) {
			*field = VFIO_NEST_FIELD_ENTRY_GRANULE;
			return -EINVAL;
		}
		if (e->iova & (BIT_ULL(e->granule_shift) - 1)) {
			*field = VFIO_NEST_FIELD_ENTRY_IOVA;
			return -EINVAL;
		}
		if (!e->nr_pages) {
			*field = VFIO_NEST_FIELD_ENTRY_NR_PAGES;
			return -EINVAL;
		}
		if (e->nr_pages > (U64_MAX >> e->granule_shift) ||
		    (e->nr_pages << e->granule_shift) - 1 > U64_MAX - e->iova) {
			*field = VFIO_NEST_FIELD_ENTRY_NR_PAGES;
			return -EOVERFLOW;
		}
		n = arm_lpae_inv_va(hw, table, e, upper, cmds);
		if (cache && n == 1 && e->nr_pages == 1 &&
		    !(e->flags & VFIO_NEST_INV_CONFIG)) {
			*cache = (struct vn_inv_cache) {
				.valid = true, .upper = upper,
				.flags = e->flags, .asid = e->asid,
				.shift = e->granule_shift,
				.d0 = le64_to_cpu(cmds[0].data[0]),
				.d1 = le64_to_cpu(cmds[0].data[1]) &
				      ~CMD_TLBI1_VA,
			};
		}
		break;
	case VFIO_NEST_INV_SCOPE_ALL:
		*field = e->asid ? VFIO_NEST_FIELD_ENTRY_ASID :
			 e->granule_shift ? VFIO_NEST_FIELD_ENTRY_GRANULE :
			 e->iova ? VFIO_NEST_FIELD_ENTRY_IOVA :
			 e->nr_pages ? VFIO_NEST_FIELD_ENTRY_NR_PAGES :
			 VFIO_NEST_FIELD_NONE;
		if (*field)
			return -EINVAL;
		arm_lpae_cmd(&cmds[n++], FIELD_PREP(CMD0_OP,
						    CMD_OP_TLBI_NH_ALL), 0);
		break;
	case VFIO_NEST_INV_SCOPE_ASID:
		*field = e->granule_shift ? VFIO_NEST_FIELD_ENTRY_GRANULE :
			 e->iova ? VFIO_NEST_FIELD_ENTRY_IOVA :
			 e->nr_pages ? VFIO_NEST_FIELD_ENTRY_NR_PAGES :
			 VFIO_NEST_FIELD_NONE;
		if (*field)
			return -EINVAL;
		if (e->asid >= p->asid_limit) {
			*field = VFIO_NEST_FIELD_ENTRY_ASID;
			return -ERANGE;
		}
		arm_lpae_cmd(&cmds[n++],
			     FIELD_PREP(CMD0_OP, CMD_OP_TLBI_NH_ASID) |
			     FIELD_PREP(CMD_TLBI0_ASID, e->asid), 0);
		break;
	default:
		*field = VFIO_NEST_FIELD_ENTRY_SCOPE;
		return -EINVAL;
	}

	if (e->flags & VFIO_NEST_INV_CONFIG)
		arm_lpae_cmd(&cmds[n++],
			     FIELD_PREP(CMD0_OP, CMD_OP_CFGI_CD) |
			     FIELD_PREP(CMD_CFGI0_SID, vsid) |
			     FIELD_PREP(CMD_CFGI0_SSID, 0), CMD_CFGI1_LEAF);
	return n;
}

static bool arm_lpae_decode_event(const void *raw, size_t len,
				  struct vfio_nest_fault *fault)
{
	const __le64 *evt = raw;
	u64 e0, e1;

	if (len < 4 * sizeof(*evt))
		return false;
	e0 = le64_to_cpu(evt[0]);
	e1 = le64_to_cpu(evt[1]);
	fault->raw_id = FIELD_GET(EVT0_ID, e0);
	switch (fault->raw_id) {
	case EVT_ID_TRANSLATION:
		fault->reason = VFIO_NEST_FAULT_TRANSLATION;
		break;
	case EVT_ID_PERMISSION:
		fault->reason = VFIO_NEST_FAULT_PERMISSION;
		break;
	case EVT_ID_ACCESS:
		fault->reason = VFIO_NEST_FAULT_ACCESS;
		break;
	case EVT_ID_ADDR_SIZE:
		fault->reason = VFIO_NEST_FAULT_ADDR_SIZE;
		break;
	case EVT_ID_BAD_STE:
	case EVT_ID_STREAM_DISABLED:
	case EVT_ID_BAD_SUBSTREAMID:
	case EVT_ID_BAD_CD:
		fault->reason = VFIO_NEST_FAULT_CONFIG;
		break;
	default:
		fault->reason = VFIO_NEST_FAULT_OTHER;
		break;
	}
	if (!(e1 & EVT1_RNW))
		fault->flags |= VFIO_NEST_FAULT_WRITE;
	if (e1 & EVT1_S2) {
		fault->flags |= VFIO_NEST_FAULT_STAGE2;
		fault->ipa = le64_to_cpu(evt[3]) & EVT3_IPA;
	}
	fault->iova = le64_to_cpu(evt[2]);
	return true;
}

const struct vn_fmt_ops vn_fmt_arm_lpae = {
	.format = VFIO_NEST_FORMAT_ARM_LPAE_S1,
	.caps_from_hw = arm_lpae_caps_from_hw,
	.validate = arm_lpae_validate,
	.prepare = arm_lpae_prepare,
	.encode_cd = arm_lpae_encode_cd,
	.encode_ste = arm_lpae_encode_ste,
	.invalidate = arm_lpae_invalidate,
	.decode_event = arm_lpae_decode_event,
};
