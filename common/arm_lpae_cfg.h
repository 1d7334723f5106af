/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Arm LPAE (VMSAv8-64) stage-1 configuration rules: the one copy of the checks
 * that a table configuration handed over by a guest (TCR, TTBR0/1, MAIR,
 * ASID) must pass before an IOMMU walks it. Used by the guest module (to pick
 * a configuration the device accepts), the host module and the QEMU device
 * model (to refuse the rest) and the tests.
 *
 * Header only, no allocation, no dependencies beyond <linux/types.h> and the
 * errno values, so it builds in the kernel, in userspace and inside QEMU.
 * Register layouts follow the Arm ARM (DDI 0487) TCR_EL1, TTBRn_EL1 and
 * MAIR_EL1 descriptions.
 */
#ifndef _ARM_LPAE_CFG_H
#define _ARM_LPAE_CFG_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#include <stddef.h>
#endif

/* struct arm_lpae_caps.granules: the page size itself */
#define ARM_LPAE_GRANULE_4K		0x1000U
#define ARM_LPAE_GRANULE_16K		0x4000U
#define ARM_LPAE_GRANULE_64K		0x10000U

/* struct arm_lpae_caps.flags */
#define ARM_LPAE_CAP_HA			0x1U	/* hardware access flag */
#define ARM_LPAE_CAP_HD			0x2U	/* hardware dirty state */
#define ARM_LPAE_CAP_RIL		0x4U	/* range invalidation */

/*
 * TCR_EL1 fields: ARM_LPAE_TCR_<F>_SHIFT and the unshifted ARM_LPAE_TCR_<F>_MASK.
 * Fields that are not listed here (A1, TBI0/1 and everything above HD) are not
 * part of the configuration a guest may hand over and must be zero.
 */
#define ARM_LPAE_TCR_T0SZ_SHIFT		0
#define ARM_LPAE_TCR_T0SZ_MASK		0x3fULL
#define ARM_LPAE_TCR_EPD0_SHIFT		7
#define ARM_LPAE_TCR_EPD0_MASK		0x1ULL
#define ARM_LPAE_TCR_IRGN0_SHIFT	8
#define ARM_LPAE_TCR_IRGN0_MASK		0x3ULL
#define ARM_LPAE_TCR_ORGN0_SHIFT	10
#define ARM_LPAE_TCR_ORGN0_MASK		0x3ULL
#define ARM_LPAE_TCR_SH0_SHIFT		12
#define ARM_LPAE_TCR_SH0_MASK		0x3ULL
#define ARM_LPAE_TCR_TG0_SHIFT		14
#define ARM_LPAE_TCR_TG0_MASK		0x3ULL
#define ARM_LPAE_TCR_T1SZ_SHIFT		16
#define ARM_LPAE_TCR_T1SZ_MASK		0x3fULL
#define ARM_LPAE_TCR_EPD1_SHIFT		23
#define ARM_LPAE_TCR_EPD1_MASK		0x1ULL
#define ARM_LPAE_TCR_IRGN1_SHIFT	24
#define ARM_LPAE_TCR_IRGN1_MASK		0x3ULL
#define ARM_LPAE_TCR_ORGN1_SHIFT	26
#define ARM_LPAE_TCR_ORGN1_MASK		0x3ULL
#define ARM_LPAE_TCR_SH1_SHIFT		28
#define ARM_LPAE_TCR_SH1_MASK		0x3ULL
#define ARM_LPAE_TCR_TG1_SHIFT		30
#define ARM_LPAE_TCR_TG1_MASK		0x3ULL
#define ARM_LPAE_TCR_IPS_SHIFT		32
#define ARM_LPAE_TCR_IPS_MASK		0x7ULL
#define ARM_LPAE_TCR_AS_SHIFT		36
#define ARM_LPAE_TCR_AS_MASK		0x1ULL
#define ARM_LPAE_TCR_HA_SHIFT		39
#define ARM_LPAE_TCR_HA_MASK		0x1ULL
#define ARM_LPAE_TCR_HD_SHIFT		40
#define ARM_LPAE_TCR_HD_MASK		0x1ULL

#define ARM_LPAE_TCR_GET(tcr, f)	\
	(((tcr) >> ARM_LPAE_TCR_##f##_SHIFT) & ARM_LPAE_TCR_##f##_MASK)
#define ARM_LPAE_TCR_PREP(f, v)		\
	(((__u64)(v) & ARM_LPAE_TCR_##f##_MASK) << ARM_LPAE_TCR_##f##_SHIFT)

/* Every field above, in place: the rest of TCR must be zero */
#define ARM_LPAE_TCR_VALID_BITS						\
	(ARM_LPAE_TCR_PREP(T0SZ, ~0ULL) | ARM_LPAE_TCR_PREP(EPD0, ~0ULL) | \
	 ARM_LPAE_TCR_PREP(IRGN0, ~0ULL) | ARM_LPAE_TCR_PREP(ORGN0, ~0ULL) | \
	 ARM_LPAE_TCR_PREP(SH0, ~0ULL) | ARM_LPAE_TCR_PREP(TG0, ~0ULL) |	\
	 ARM_LPAE_TCR_PREP(T1SZ, ~0ULL) | ARM_LPAE_TCR_PREP(EPD1, ~0ULL) | \
	 ARM_LPAE_TCR_PREP(IRGN1, ~0ULL) | ARM_LPAE_TCR_PREP(ORGN1, ~0ULL) | \
	 ARM_LPAE_TCR_PREP(SH1, ~0ULL) | ARM_LPAE_TCR_PREP(TG1, ~0ULL) |	\
	 ARM_LPAE_TCR_PREP(IPS, ~0ULL) | ARM_LPAE_TCR_PREP(AS, ~0ULL) |	\
	 ARM_LPAE_TCR_PREP(HA, ~0ULL) | ARM_LPAE_TCR_PREP(HD, ~0ULL))

/* TCR.TG0 and TCR.TG1 encode the same granules differently */
#define ARM_LPAE_TCR_TG0_4K		0
#define ARM_LPAE_TCR_TG0_64K		1
#define ARM_LPAE_TCR_TG0_16K		2
#define ARM_LPAE_TCR_TG1_16K		1
#define ARM_LPAE_TCR_TG1_4K		2
#define ARM_LPAE_TCR_TG1_64K		3

/* TCR.{IRGN,ORGN}n and TCR.SHn values */
#define ARM_LPAE_TCR_RGN_NC		0
#define ARM_LPAE_TCR_RGN_WBWA		1
#define ARM_LPAE_TCR_RGN_WT		2
#define ARM_LPAE_TCR_RGN_WB		3
#define ARM_LPAE_TCR_SH_NS		0
#define ARM_LPAE_TCR_SH_RESERVED	1
#define ARM_LPAE_TCR_SH_OS		2
#define ARM_LPAE_TCR_SH_IS		3

/* TCR.IPS: 0..6 stand for 32, 36, 40, 42, 44, 48 and 52 bits */
#define ARM_LPAE_TCR_IPS_MAX		6

/*
 * TTBRn_EL1: the ASID field is not used (the ASID travels separately and
 * TCR.A1 must be zero), CnP is meaningless for an IOMMU, BADDR stops at bit 47.
 */
#define ARM_LPAE_TTBR_ASID_BITS		0xffff000000000000ULL

/* Architectural TxSZ limits without FEAT_TTST / FEAT_LVA: 25..48 input bits */
#define ARM_LPAE_MIN_IA_BITS		25
#define ARM_LPAE_MAX_IA_BITS		48

/**
 * struct arm_lpae_caps - what the IOMMU behind an endpoint supports
 * @granules: ARM_LPAE_GRANULE_* bits
 * @ias: input address size in bits
 * @oas: output address size in bits
 * @asid_bits: number of ASID bits (8 or 16)
 * @flags: ARM_LPAE_CAP_* bits
 */
struct arm_lpae_caps {
	__u32 granules;
	__u32 ias, oas, asid_bits;
	__u32 flags;
};

/**
 * struct arm_lpae_cfg - a stage-1 configuration handed over by a guest
 * @tcr: TCR_EL1 layout, fields ARM_LPAE_TCR_*
 * @ttbr0: root table for the lower VA range, zero if TCR.EPD0 is set
 * @ttbr1: root table for the upper VA range, zero if TCR.EPD1 is set
 * @mair: MAIR_EL1 layout
 * @asid: address space ID
 */
struct arm_lpae_cfg {
	__u64 tcr, ttbr0, ttbr1, mair;
	__u32 asid;
};

/**
 * arm_lpae_ips_to_bits() - size in bits of a TCR.IPS encoding
 * @ips: TCR.IPS value
 *
 * Return: 32..52, or 0 for a reserved encoding.
 */
static inline unsigned int arm_lpae_ips_to_bits(unsigned int ips)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return ips <= ARM_LPAE_TCR_IPS_MAX ? bits[ips] : 0;
}

/**
 * arm_lpae_ips_from_bits() - TCR.IPS encoding of the largest physical
 *	address size that does not exceed @bits
 * @bits: an output address size, e.g. struct arm_lpae_caps.oas
 *
 * Return: 0..6, or -ERANGE if @bits is below 32.
 */
static inline int arm_lpae_ips_from_bits(unsigned int bits)
{
	int ips;

	for (ips = ARM_LPAE_TCR_IPS_MAX; ips >= 0; ips--)
		if (arm_lpae_ips_to_bits((unsigned int)ips) <= bits)
			return ips;
	return -ERANGE;
}

/**
 * arm_lpae_tg0_to_shift() - log2 of the granule a TCR.TG0 value selects
 * @tg0: TCR.TG0 value
 *
 * Return: 12, 14 or 16, or 0 for a reserved encoding.
 */
static inline unsigned int arm_lpae_tg0_to_shift(unsigned int tg0)
{
	switch (tg0) {
	case ARM_LPAE_TCR_TG0_4K:
		return 12;
	case ARM_LPAE_TCR_TG0_16K:
		return 14;
	case ARM_LPAE_TCR_TG0_64K:
		return 16;
	}
	return 0;
}

/**
 * arm_lpae_tg1_to_shift() - log2 of the granule a TCR.TG1 value selects
 * @tg1: TCR.TG1 value
 *
 * Return: 12, 14 or 16, or 0 for a reserved encoding.
 */
static inline unsigned int arm_lpae_tg1_to_shift(unsigned int tg1)
{
	switch (tg1) {
	case ARM_LPAE_TCR_TG1_4K:
		return 12;
	case ARM_LPAE_TCR_TG1_16K:
		return 14;
	case ARM_LPAE_TCR_TG1_64K:
		return 16;
	}
	return 0;
}

/**
 * arm_lpae_tg0_from_shift() - TCR.TG0 value for a granule
 * @shift: 12, 14 or 16
 *
 * Return: the TG0 encoding, or -EINVAL for another granule.
 */
static inline int arm_lpae_tg0_from_shift(unsigned int shift)
{
	switch (shift) {
	case 12:
		return ARM_LPAE_TCR_TG0_4K;
	case 14:
		return ARM_LPAE_TCR_TG0_16K;
	case 16:
		return ARM_LPAE_TCR_TG0_64K;
	}
	return -EINVAL;
}

/**
 * arm_lpae_tg1_from_shift() - TCR.TG1 value for a granule
 * @shift: 12, 14 or 16
 *
 * Return: the TG1 encoding, or -EINVAL for another granule.
 */
static inline int arm_lpae_tg1_from_shift(unsigned int shift)
{
	switch (shift) {
	case 12:
		return ARM_LPAE_TCR_TG1_4K;
	case 14:
		return ARM_LPAE_TCR_TG1_16K;
	case 16:
		return ARM_LPAE_TCR_TG1_64K;
	}
	return -EINVAL;
}

/**
 * arm_lpae_start_level() - level of the root table
 * @granule_shift: 12, 14 or 16
 * @ia_bits: input address size (64 - TxSZ)
 *
 * Each level resolves granule_shift - 3 bits above the page offset; the root
 * level resolves what is left.
 *
 * Return: 0..3 (may be negative for input sizes beyond this format).
 */
static inline int arm_lpae_start_level(unsigned int granule_shift,
				       unsigned int ia_bits)
{
	unsigned int stride = granule_shift - 3;
	unsigned int levels = (ia_bits - granule_shift + stride - 1) / stride;

	return 4 - (int)levels;
}

/**
 * arm_lpae_root_table_size() - size in bytes of the root table, which is also
 *	its required alignment (at least 64 bytes)
 * @granule_shift: 12, 14 or 16
 * @ia_bits: input address size (64 - TxSZ)
 *
 * Return: the size in bytes.
 */
static inline __u64 arm_lpae_root_table_size(unsigned int granule_shift,
					     unsigned int ia_bits)
{
	unsigned int stride = granule_shift - 3;
	unsigned int levels = (unsigned int)(4 - arm_lpae_start_level(granule_shift,
								   ia_bits));
	unsigned int root_bits = ia_bits - granule_shift - (levels - 1) * stride;
	__u64 size = 8ULL << root_bits;

	return size < 64 ? 64 : size;
}

/**
 * arm_lpae_mair_attr_valid() - whether one MAIR attribute byte is defined
 * @attr: the byte
 *
 * Device memory is 0b0000dd00; Normal memory has a non-zero outer and a
 * non-zero inner nibble (0bxxxx0000 encodings are UNPREDICTABLE or need
 * FEAT_XS / FEAT_MTE, which an IOMMU walk does not implement).
 *
 * Return: true if valid.
 */
static inline int arm_lpae_mair_attr_valid(__u8 attr)
{
	unsigned int outer = attr >> 4, inner = attr & 0xf;

	if (!outer)
		return !(inner & 0x3);
	return inner != 0;
}

/* One TTBRn and the TCR fields of its half; n is 0 or 1 */
static inline int arm_lpae_cfg_validate_half(const struct arm_lpae_caps *caps,
					     __u64 tcr, __u64 ttbr,
					     unsigned int n, unsigned int oa_bits,
					     __u64 s2_size, const char **field)
{
	unsigned int tsz, tg, sh, gshift, ia_bits, max_ia;
	__u64 size;

	if (n == 0) {
		tsz = ARM_LPAE_TCR_GET(tcr, T0SZ);
		tg = ARM_LPAE_TCR_GET(tcr, TG0);
		sh = ARM_LPAE_TCR_GET(tcr, SH0);
		gshift = arm_lpae_tg0_to_shift(tg);
	} else {
		tsz = ARM_LPAE_TCR_GET(tcr, T1SZ);
		tg = ARM_LPAE_TCR_GET(tcr, TG1);
		sh = ARM_LPAE_TCR_GET(tcr, SH1);
		gshift = arm_lpae_tg1_to_shift(tg);
	}

	if (!gshift || !(caps->granules & (1U << gshift))) {
		*field = n ? "tcr.tg1" : "tcr.tg0";
		return -EINVAL;
	}
	if (sh == ARM_LPAE_TCR_SH_RESERVED) {
		*field = n ? "tcr.sh1" : "tcr.sh0";
		return -EINVAL;
	}

	ia_bits = 64 - tsz;
	if (ia_bits < ARM_LPAE_MIN_IA_BITS) {
		*field = n ? "tcr.t1sz" : "tcr.t0sz";
		return -EINVAL;
	}
	max_ia = caps->ias < ARM_LPAE_MAX_IA_BITS ? caps->ias :
						    ARM_LPAE_MAX_IA_BITS;
	if (ia_bits > max_ia) {
		*field = n ? "tcr.t1sz" : "tcr.t0sz";
		return -ERANGE;
	}

	*field = n ? "ttbr1" : "ttbr0";
	size = arm_lpae_root_table_size(gshift, ia_bits);
	if (!ttbr || (ttbr & ARM_LPAE_TTBR_ASID_BITS) || (ttbr & (size - 1)))
		return -EINVAL;
	if (oa_bits < 64 && (ttbr >> oa_bits || size > (1ULL << oa_bits) - ttbr))
		return -ERANGE;
	if (s2_size && (ttbr >= s2_size || size > s2_size - ttbr))
		return -ERANGE;

	*field = NULL;
	return 0;
}

/**
 * arm_lpae_cfg_validate() - check a stage-1 configuration against an IOMMU
 * @caps: what the IOMMU supports
 * @cfg: the configuration
 * @s2_size: size of the stage-2 input range (the guest physical address
 *	space); root tables must lie below it. 0: no limit beyond the OAS.
 * @field: if not NULL, set to the name of the offending field on error
 *	("tcr", "tcr.t0sz", "tcr.tg1", "ttbr0", "mair", "asid", ...) and to
 *	NULL on success
 *
 * -EINVAL is returned for encodings that are reserved, architecturally
 * invalid or not supported by @caps (granule, HA/HD, AS); -ERANGE for
 * well-formed values beyond the limits of @caps or @s2_size (input size,
 * output size, table address, ASID).
 *
 * Return: 0 if the configuration is acceptable, -EINVAL or -ERANGE.
 */
static inline int arm_lpae_cfg_validate(const struct arm_lpae_caps *caps,
					const struct arm_lpae_cfg *cfg,
					__u64 s2_size, const char **field)
{
	const char *dummy;
	unsigned int ips_bits, oa_bits, i;
	__u64 tcr = cfg->tcr;
	int ret;

	if (!field)
		field = &dummy;
	*field = "tcr";

	if (tcr & ~ARM_LPAE_TCR_VALID_BITS)
		return -EINVAL;

	if (ARM_LPAE_TCR_GET(tcr, EPD0) && ARM_LPAE_TCR_GET(tcr, EPD1)) {
		*field = "tcr.epd0";
		return -EINVAL;
	}

	*field = "tcr.ips";
	ips_bits = arm_lpae_ips_to_bits(ARM_LPAE_TCR_GET(tcr, IPS));
	if (!ips_bits)
		return -EINVAL;
	if (ips_bits > caps->oas)
		return -ERANGE;
	oa_bits = ips_bits;

	*field = "tcr.ha";
	if (ARM_LPAE_TCR_GET(tcr, HA) && !(caps->flags & ARM_LPAE_CAP_HA))
		return -EINVAL;
	*field = "tcr.hd";
	if (ARM_LPAE_TCR_GET(tcr, HD) &&
	    (!(caps->flags & ARM_LPAE_CAP_HD) || !ARM_LPAE_TCR_GET(tcr, HA)))
		return -EINVAL;

	*field = "tcr.as";
	if (ARM_LPAE_TCR_GET(tcr, AS) && caps->asid_bits < 16)
		return -EINVAL;
	*field = "asid";
	if (!ARM_LPAE_TCR_GET(tcr, AS) && cfg->asid >> 8)
		return -ERANGE;
	if (caps->asid_bits < 32 && cfg->asid >> caps->asid_bits)
		return -ERANGE;

	*field = "mair";
	for (i = 0; i < 8; i++)
		if (!arm_lpae_mair_attr_valid((__u8)(cfg->mair >> (8 * i))))
			return -EINVAL;

	if (ARM_LPAE_TCR_GET(tcr, EPD0)) {
		*field = "ttbr0";
		if (cfg->ttbr0)
			return -EINVAL;
	} else {
		ret = arm_lpae_cfg_validate_half(caps, tcr, cfg->ttbr0, 0,
						 oa_bits, s2_size, field);
		if (ret)
			return ret;
	}

	if (ARM_LPAE_TCR_GET(tcr, EPD1)) {
		*field = "ttbr1";
		if (cfg->ttbr1)
			return -EINVAL;
	} else {
		ret = arm_lpae_cfg_validate_half(caps, tcr, cfg->ttbr1, 1,
						 oa_bits, s2_size, field);
		if (ret)
			return ret;
	}

	*field = NULL;
	return 0;
}

#endif /* _ARM_LPAE_CFG_H */
