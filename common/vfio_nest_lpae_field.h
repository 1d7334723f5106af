/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The vfio_nest_field that names what arm_lpae_cfg_validate() refused: the
 * one mapping from its field names to the uAPI's out_bad_field values, for
 * the host module and for the tests that predict its answers.
 */
#ifndef _VFIO_NEST_LPAE_FIELD_H
#define _VFIO_NEST_LPAE_FIELD_H

#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif
#include "vfio_nest.h"

/* vfio_nest_lpae_field - @name as set by arm_lpae_cfg_validate(); TCR if unknown */
static inline __u32 vfio_nest_lpae_field(const char *name)
{
	static const struct {
		const char *name;
		__u32 field;
	} map[] = {
		{ "tcr", VFIO_NEST_FIELD_TCR },
		{ "tcr.t0sz", VFIO_NEST_FIELD_TCR_T0SZ },
		{ "tcr.t1sz", VFIO_NEST_FIELD_TCR_T1SZ },
		{ "tcr.tg0", VFIO_NEST_FIELD_TCR_TG0 },
		{ "tcr.tg1", VFIO_NEST_FIELD_TCR_TG1 },
		{ "tcr.sh0", VFIO_NEST_FIELD_TCR_SH0 },
		{ "tcr.sh1", VFIO_NEST_FIELD_TCR_SH1 },
		{ "tcr.epd0", VFIO_NEST_FIELD_TCR_EPD },
		{ "tcr.epd1", VFIO_NEST_FIELD_TCR_EPD },
		{ "tcr.ips", VFIO_NEST_FIELD_TCR_IPS },
		{ "tcr.ha", VFIO_NEST_FIELD_TCR_HA },
		{ "tcr.hd", VFIO_NEST_FIELD_TCR_HD },
		{ "tcr.as", VFIO_NEST_FIELD_TCR_AS },
		{ "ttbr0", VFIO_NEST_FIELD_TTBR0 },
		{ "ttbr1", VFIO_NEST_FIELD_TTBR1 },
		{ "mair", VFIO_NEST_FIELD_MAIR },
		{ "asid", VFIO_NEST_FIELD_ASID },
		{ NULL, VFIO_NEST_FIELD_TCR },
	};
	unsigned int i;

	for (i = 0; name && map[i].name; i++)
		if (!strcmp(name, map[i].name))
			return map[i].field;
	return VFIO_NEST_FIELD_TCR;
}

#endif /* _VFIO_NEST_LPAE_FIELD_H */
