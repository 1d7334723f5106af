// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-nest-ctl: the /dev/vfio-nest uAPI from a shell, for inspection and
 * manual tests in a VM. It acts as a small VMM: it opens the edu device (or
 * the PCI device given with --bdf) through its VFIO cdev, binds it to a
 * fresh iommufd, maps a buffer of "guest RAM" as the stage 2 and, for
 * attach, builds a stage-1 table in it that maps --va to that RAM.
 *
 *   vfio-nest-ctl info
 *   vfio-nest-ctl attach [--asid N] [--va ADDR] [--dma] [--s2-hwpt]
 *   vfio-nest-ctl invalidate [--scope all|asid|va] [--asid N] [--va ADDR]
 *                            [--pages N] [--granule SHIFT] [--leaf] [--config]
 *   vfio-nest-ctl faults [--va ADDR]
 *
 * Each command runs in one process (the objects live in its iommufd), so
 * attach, invalidate and faults attach first and then do their part. With
 * --s2-hwpt the tool allocates the stage 2 itself (a NEST_PARENT HWPT on
 * its IOAS) and hands it over in s2_hwpt_id, as a VMM that keeps its own
 * stage 2 would.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio_edu.h"
#include "arm_lpae_cfg.h"
#include "vfio_nest.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define GUEST_IPA	0x04000000ull
#define GUEST_SIZE	(1ull << 20)
#define HOST_IPA	0x03000000ull

/* Stage-1 descriptor bits, 4K granule */
#define PTE_VALID	(1ull << 0)
#define PTE_TABLE	(1ull << 1)
#define PTE_ATTR	((1ull << 6) | (3ull << 8) | (1ull << 10) | (1ull << 11))
#define PTE_ADDR	0x0000fffffffff000ull

struct ctl {
	struct vfio_edu edu;
	int fd;
	struct vfio_nest_info info;
	uint8_t *ram;
	uint64_t next;
	uint64_t root;
	/* options */
	uint32_t asid;
	uint64_t va;
	uint32_t scope;
	uint64_t pages;
	uint32_t granule;
	uint32_t inv_flags;
	bool dma;
	bool s2_hwpt;
};

static const char *const field_names[] = {
	"-", "flags", "__reserved", "device_fd", "iommufd", "dev_id",
	"s2_pt_id", "host_ipa", "ipa_size", "format", "asid", "tcr",
	"tcr.T0SZ", "tcr.T1SZ", "tcr.TG0", "tcr.TG1", "tcr.SH0", "tcr.SH1",
	"tcr.EPD", "tcr.IPS", "tcr.HA", "tcr.HD", "tcr.AS", "ttbr0", "ttbr1",
	"mair", "entry_len", "entry_num", "entry.scope", "entry.flags",
	"entry.asid", "entry.granule_shift", "entry.iova", "entry.nr_pages",
	"entry.__reserved", "s2_hwpt_id",
};

static const char *field_name(uint32_t field)
{
	return field < ARRAY_SIZE(field_names) ? field_names[field] : "?";
}

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: vfio-nest-ctl COMMAND [OPTIONS]\n"
		"\n"
		"Drive /dev/vfio-nest as a small VMM would, with QEMU's edu device\n"
		"(1234:11e8) behind an SMMUv3.\n"
		"\n"
		"commands:\n"
		"  info         print what the IOMMU behind the device supports\n"
		"  attach       build a stage-1 table mapping --va and attach it\n"
		"  invalidate   attach, then send one invalidation entry\n"
		"  faults       attach, DMA to an unmapped --va, print fault records\n"
		"\n"
		"options:\n"
		"  --asid N       ASID of the table (default 1)\n"
		"  --va ADDR      virtual address (default 0x100000)\n"
		"  --dma          attach: round-trip one page through --va with edu\n"
		"  --s2-hwpt      attach, invalidate, faults: allocate the stage 2\n"
		"                 (a NEST_PARENT HWPT) here and pass it as s2_hwpt_id\n"
		"                 instead of letting the module allocate it\n"
		"  --scope S      invalidate: all, asid or va (default va)\n"
		"  --pages N      invalidate: pages (default 1)\n"
		"  --granule N    invalidate: log2 page size (default 12)\n"
		"  --leaf         invalidate: leaf entries only\n"
		"  --config       invalidate: also the cached configuration\n"
		"  -h, --help     this text\n");
}

static uint64_t ram_page(struct ctl *c)
{
	uint64_t ipa = GUEST_IPA + c->next;

	c->next += 4096;
	memset(c->ram + (ipa - GUEST_IPA), 0, 4096);
	return ipa;
}

static uint64_t *ram_ptr(struct ctl *c, uint64_t ipa)
{
	return (uint64_t *)(c->ram + (ipa - GUEST_IPA));
}

/* Map @va to @ipa in a 39-bit, 4K, three-level table. */
static void map_page(struct ctl *c, uint64_t va, uint64_t ipa)
{
	uint64_t table = c->root, *pte;
	int level;

	for (level = 1; level < 3; level++) {
		pte = ram_ptr(c, table) + ((va >> (12 + 9 * (3 - level))) & 511);
		if (!(*pte & PTE_VALID))
			*pte = ram_page(c) | PTE_VALID | PTE_TABLE;
		table = *pte & PTE_ADDR;
	}
	pte = ram_ptr(c, table) + ((va >> 12) & 511);
	*pte = (ipa & PTE_ADDR) | PTE_VALID | PTE_TABLE | PTE_ATTR;
	__sync_synchronize();
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "vfio-nest-ctl: %s: %s\n", what, strerror(err));
	return 1;
}

static int open_all(struct ctl *c)
{
	int ret;

	c->fd = open("/dev/vfio-nest", O_RDWR);
	if (c->fd < 0 && errno == ENOENT &&
	    system("modprobe vfio_nest 2>/dev/null") == 0)
		c->fd = open("/dev/vfio-nest", O_RDWR);
	if (c->fd < 0)
		return fail("/dev/vfio-nest", errno);
	ret = vfio_edu_open(&c->edu);
	if (ret)
		return fail("edu through VFIO cdev", -ret);
	c->info.size = sizeof(c->info);
	c->info.iommufd = c->edu.iommufd;
	c->info.dev_id = c->edu.dev_id;
	if (ioctl(c->fd, VFIO_NEST_GET_INFO, &c->info))
		return fail("VFIO_NEST_GET_INFO", errno);
	return 0;
}

static int cmd_info(struct ctl *c)
{
	struct vfio_nest_info *i = &c->info;

	printf("device          %s (iommufd dev_id %u)\n", c->edu.bdf,
	       c->edu.dev_id);
	printf("formats         %#x%s\n", i->out_formats,
	       i->out_formats & (1u << VFIO_NEST_FORMAT_ARM_LPAE_S1) ?
	       " (arm-lpae-s1)" : "");
	printf("granules        %s%s%s\n",
	       i->out_granules & ARM_LPAE_GRANULE_4K ? "4K " : "",
	       i->out_granules & ARM_LPAE_GRANULE_16K ? "16K " : "",
	       i->out_granules & ARM_LPAE_GRANULE_64K ? "64K" : "");
	printf("ias/oas         %u/%u bits\n", i->out_ias, i->out_oas);
	printf("asid bits       %u\n", i->out_asid_bits);
	printf("caps            %s%s%s%s%s\n",
	       i->out_caps & VFIO_NEST_CAP_NESTING ? "nesting " : "NO-NESTING ",
	       i->out_caps & VFIO_NEST_CAP_S2_HWPT ? "s2-hwpt " : "",
	       i->out_caps & VFIO_NEST_CAP_RANGE_INV ? "range-inv " : "",
	       i->out_caps & VFIO_NEST_CAP_HW_ACCESS ? "hw-access " : "",
	       i->out_caps & VFIO_NEST_CAP_HW_DIRTY ? "hw-dirty" : "");
	printf("host window     %llu bytes\n",
	       (unsigned long long)i->out_host_window);
	printf("smmu idr0/1/3/5 %#x %#x %#x %#x\n", i->out_smmu_idr[0],
	       i->out_smmu_idr[1], i->out_smmu_idr[2], i->out_smmu_idr[3]);
	return 0;
}

static int do_attach(struct ctl *c, uint64_t *data_ipa)
{
	struct vfio_nest_attach_table at = {
		.size = sizeof(at),
		.device_fd = c->edu.device_fd,
		.iommufd = c->edu.iommufd,
		.dev_id = c->edu.dev_id,
		.s2_pt_id = c->edu.ioas_id,
		.host_ipa = HOST_IPA,
		.format = VFIO_NEST_FORMAT_ARM_LPAE_S1,
		.asid = c->asid,
		.mair = 0xff,
	};
	int ret;

	c->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->ram == MAP_FAILED)
		return fail("guest RAM", errno);
	ret = vfio_edu_ioas_map(&c->edu, c->edu.ioas_id, c->ram, GUEST_SIZE,
				GUEST_IPA);
	if (ret)
		return fail("IOMMU_IOAS_MAP", -ret);
	c->root = ram_page(c);
	*data_ipa = ram_page(c);
	map_page(c, c->va, *data_ipa);
	if (c->s2_hwpt) {
		ret = vfio_edu_hwpt_alloc(&c->edu, c->edu.ioas_id,
					  IOMMU_HWPT_ALLOC_NEST_PARENT,
					  &at.s2_hwpt_id);
		if (ret)
			return fail("IOMMU_HWPT_ALLOC (NEST_PARENT)", -ret);
	}

	at.tcr = ARM_LPAE_TCR_PREP(T0SZ, 25) |
		 ARM_LPAE_TCR_PREP(IRGN0, ARM_LPAE_TCR_RGN_WBWA) |
		 ARM_LPAE_TCR_PREP(ORGN0, ARM_LPAE_TCR_RGN_WBWA) |
		 ARM_LPAE_TCR_PREP(SH0, ARM_LPAE_TCR_SH_IS) |
		 ARM_LPAE_TCR_PREP(TG0, ARM_LPAE_TCR_TG0_4K) |
		 ARM_LPAE_TCR_PREP(EPD1, 1) |
		 ARM_LPAE_TCR_PREP(IPS, arm_lpae_ips_from_bits(c->info.out_oas));
	if (c->asid > 255)
		at.tcr |= ARM_LPAE_TCR_PREP(AS, 1);
	at.ttbr0 = c->root;
	if (ioctl(c->fd, VFIO_NEST_ATTACH_TABLE, &at)) {
		fprintf(stderr, "vfio-nest-ctl: ATTACH_TABLE: %s (field %s)\n",
			strerror(errno), field_name(at.out_bad_field));
		return 1;
	}
	printf("attached: asid %u tcr %#llx ttbr0 %#llx va %#llx -> ipa %#llx, stage 2 %s %u\n",
	       c->asid, (unsigned long long)at.tcr,
	       (unsigned long long)at.ttbr0, (unsigned long long)c->va,
	       (unsigned long long)*data_ipa,
	       c->s2_hwpt ? "hwpt" : "ioas",
	       c->s2_hwpt ? at.s2_hwpt_id : at.s2_pt_id);
	return 0;
}

static int cmd_attach(struct ctl *c)
{
	uint64_t ipa;
	uint8_t *data;
	int ret, i;

	ret = do_attach(c, &ipa);
	if (ret || !c->dma)
		return ret;
	data = (uint8_t *)ram_ptr(c, ipa);
	for (i = 0; i < 4096; i++)
		data[i] = (uint8_t)(i * 7);
	ret = vfio_edu_dma_to_device(&c->edu, c->va, 0, 2048);
	if (!ret)
		ret = vfio_edu_dma_to_ram(&c->edu, 0, c->va + 2048, 2048);
	if (ret)
		return fail("edu DMA", -ret);
	ret = memcmp(data, data + 2048, 2048);
	printf("dma round trip through va %#llx: %s\n",
	       (unsigned long long)c->va, ret ? "MISMATCH" : "ok");
	return ret ? 1 : 0;
}

static int cmd_invalidate(struct ctl *c)
{
	struct vfio_nest_inv_entry e = {
		.scope = c->scope,
		.flags = c->inv_flags,
	};
	struct vfio_nest_invalidate inv = {
		.size = sizeof(inv),
		.device_fd = c->edu.device_fd,
		.entry_len = sizeof(e),
		.entry_num = 1,
		.entries_uptr = (uintptr_t)&e,
	};
	uint64_t ipa;
	int ret;

	ret = do_attach(c, &ipa);
	if (ret)
		return ret;
	if (c->scope != VFIO_NEST_INV_SCOPE_ALL)
		e.asid = c->asid;
	if (c->scope == VFIO_NEST_INV_SCOPE_VA) {
		e.iova = c->va;
		e.nr_pages = c->pages;
		e.granule_shift = c->granule;
	}
	if (ioctl(c->fd, VFIO_NEST_INVALIDATE, &inv)) {
		fprintf(stderr,
			"vfio-nest-ctl: INVALIDATE: %s (field %s, %u done)\n",
			strerror(errno), field_name(inv.out_bad_field),
			inv.entry_num);
		return 1;
	}
	printf("invalidated: %u entry\n", inv.entry_num);
	return 0;
}

static int cmd_faults(struct ctl *c)
{
	static const char *const reasons[] = {
		"?", "translation", "permission", "access", "addr-size",
		"config", "other",
	};
	struct pollfd pfd = { .events = POLLIN };
	struct vfio_nest_fault f[16];
	uint64_t ipa, hole;
	ssize_t n;
	int i, ret;

	ret = do_attach(c, &ipa);
	if (ret)
		return ret;
	hole = c->va + 0x100000;
	ret = vfio_edu_dma_to_ram(&c->edu, 0, hole, 4);
	if (ret)
		return fail("edu DMA", -ret);
	pfd.fd = c->fd;
	if (poll(&pfd, 1, 2000) <= 0) {
		printf("no fault record\n");
		return 1;
	}
	n = read(c->fd, f, sizeof(f));
	if (n < 0)
		return fail("read", errno);
	for (i = 0; i < n / (ssize_t)sizeof(f[0]); i++)
		printf("fault: dev_id %u %s %s iova %#llx asid %u%s (event %#x)\n",
		       f[i].dev_id,
		       f[i].reason < 7 ? reasons[f[i].reason] : "?",
		       f[i].flags & VFIO_NEST_FAULT_WRITE ? "write" : "read",
		       (unsigned long long)f[i].iova, f[i].asid,
		       f[i].flags & VFIO_NEST_FAULT_LOST ? " (lost before)" : "",
		       f[i].raw_id);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "asid", required_argument, NULL, 'a' },
		{ "va", required_argument, NULL, 'v' },
		{ "dma", no_argument, NULL, 'd' },
		{ "scope", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'p' },
		{ "granule", required_argument, NULL, 'g' },
		{ "leaf", no_argument, NULL, 'l' },
		{ "config", no_argument, NULL, 'c' },
		{ "s2-hwpt", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct ctl c = {
		.fd = -1, .asid = 1, .va = 0x100000,
		.scope = VFIO_NEST_INV_SCOPE_VA, .pages = 1, .granule = 12,
	};
	const char *cmd;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			c.asid = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			c.va = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			c.dma = true;
			break;
		case 's':
			if (!strcmp(optarg, "all"))
				c.scope = VFIO_NEST_INV_SCOPE_ALL;
			else if (!strcmp(optarg, "asid"))
				c.scope = VFIO_NEST_INV_SCOPE_ASID;
			else if (!strcmp(optarg, "va"))
				c.scope = VFIO_NEST_INV_SCOPE_VA;
			else
				c.scope = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			c.pages = strtoull(optarg, NULL, 0);
			break;
		case 'g':
			c.granule = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			c.inv_flags |= VFIO_NEST_INV_LEAF;
			break;
		case 'c':
			c.inv_flags |= VFIO_NEST_INV_CONFIG;
			break;
		case 'H':
			c.s2_hwpt = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			print_help(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		print_help(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "info") && strcmp(cmd, "attach") &&
	    strcmp(cmd, "invalidate") && strcmp(cmd, "faults")) {
		fprintf(stderr, "vfio-nest-ctl: unknown command '%s'\n", cmd);
		print_help(stderr);
		return 2;
	}
	ret = open_all(&c);
	if (ret)
		return ret;
	if (!strcmp(cmd, "info"))
		return cmd_info(&c);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(&c);
	if (!strcmp(cmd, "invalidate"))
		return cmd_invalidate(&c);
	return cmd_faults(&c);
}
