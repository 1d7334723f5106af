// SPDX-License-Identifier: GPL-2.0
/*
 * host_nest_test: the test plays a VMM. It opens edu through VFIO cdev +
 * iommufd, maps a buffer of "guest RAM" as the VM's stage 2, builds Arm LPAE
 * stage-1 tables inside it the way a guest kernel would, hands them to
 * /dev/vfio-nest and makes edu DMA through both stages.
 *
 * Needs an SMMU that can nest (IDR3.FWB: the smmuv3-nest profile's patched
 * QEMU); skips elsewhere.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "host_test.h"

FIXTURE(nest) {
	struct vmm v;
};

FIXTURE_SETUP(nest)
{
	int ret = vmm_setup(&self->v);

	if (skip_reason(ret))
		SKIP(return, "%s", skip_reason(ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(nest)
{
	vmm_teardown(&self->v);
}

TEST_F(nest, info)
{
	struct vfio_nest_info *info = &self->v.info;

	EXPECT_EQ(1u << VFIO_NEST_FORMAT_ARM_LPAE_S1, info->out_formats);
	EXPECT_NE(0, info->out_granules & ARM_LPAE_GRANULE_4K);
	EXPECT_LE(32, info->out_oas);
	EXPECT_LE(48, info->out_ias);
	EXPECT_TRUE(info->out_asid_bits == 8 || info->out_asid_bits == 16);
	EXPECT_EQ(getpagesize(), info->out_host_window);
	TH_LOG("granules %#x ias %u oas %u asid %u caps %#x idr0 %#x idr3 %#x",
	       info->out_granules, info->out_ias, info->out_oas,
	       info->out_asid_bits, info->out_caps, info->out_smmu_idr[0],
	       info->out_smmu_idr[2]);
}

TEST_F(nest, dma_round_trip)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x21));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x21));

	/* Short and unaligned, both directions. */
	memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_device(&v->edu, VA_SRC + 100, 7, 300));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 7, VA_DST + 1000, 300));
	ASSERT_EQ(0, memcmp(guest_bytes(&v->g, v->p_src) + 100,
			    guest_bytes(&v->g, v->p_dst) + 1000, 300));
	ASSERT_EQ(0, guest_bytes(&v->g, v->p_dst)[0]);
}

TEST_F(nest, fault_unmapped_iova)
{
	struct vmm *v = &self->v;
	struct vfio_nest_fault f[8];
	struct pollfd pfd = { .fd = v->fd, .events = POLLIN };

	ASSERT_EQ(0, attach_table(v, ASID));
	EXPECT_ERRNO(EAGAIN, read(v->fd, f, sizeof(f)));
	EXPECT_ERRNO(EINVAL, read(v->fd, f, sizeof(f[0]) - 1));
	EXPECT_EQ(0, poll(&pfd, 1, 0));

	/* One 4-byte write: one access, one record. */
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_HOLE + 0x40, 4));
	ASSERT_EQ(1, read_faults(v->fd, f, 8, 2000));
	EXPECT_EQ(v->edu.dev_id, f[0].dev_id);
	EXPECT_EQ(VFIO_NEST_FAULT_TRANSLATION, f[0].reason);
	EXPECT_EQ(VA_HOLE + 0x40, f[0].iova);
	EXPECT_NE(0, f[0].flags & VFIO_NEST_FAULT_WRITE);
	EXPECT_EQ(0, f[0].flags & VFIO_NEST_FAULT_STAGE2);
	EXPECT_EQ(ASID, f[0].asid);
	EXPECT_ERRNO(EAGAIN, read(v->fd, f, sizeof(f)));

	/* A read from the hole is reported as a read. */
	ASSERT_EQ(0, vfio_edu_dma_to_device(&v->edu, VA_HOLE, 0, 4));
	ASSERT_EQ(1, read_faults(v->fd, f, 8, 2000));
	EXPECT_EQ(VA_HOLE, f[0].iova);
	EXPECT_EQ(0, f[0].flags & VFIO_NEST_FAULT_WRITE);

	/* The device still works afterwards. */
	ASSERT_EQ(0, load_device(v, 0x44));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x44));
}

static void *dma_to_hole_later(void *arg)
{
	struct vmm *v = arg;

	usleep(200000);
	vfio_edu_dma_to_ram(&v->edu, 0, VA_HOLE + 0x80, 4);
	return NULL;
}

/* A poll() already sleeping when the fault happens is woken up. */
TEST_F(nest, fault_wakes_poller)
{
	struct vmm *v = &self->v;
	struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
	struct vfio_nest_fault f;
	pthread_t thread;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, pthread_create(&thread, NULL, dma_to_hole_later, v));
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_NE(0, pfd.revents & POLLIN);
	ASSERT_EQ(sizeof(f), read(v->fd, &f, sizeof(f)));
	ASSERT_EQ(VA_HOLE + 0x80, f.iova);
}

/*
 * A stage-2 fault is the host's business (arm-smmu-v3 keeps it from the
 * vEVENTQ): nothing reaches the VMM, nothing reaches memory.
 */
TEST_F(nest, fault_stage2_not_reported)
{
	struct vmm *v = &self->v;
	struct vfio_nest_fault f[8];

	ASSERT_EQ(0, guest_map(&v->g, VA_S2_HOLE, S2_HOLE_IPA));
	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x2f));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_S2_HOLE, 4));
	ASSERT_EQ(0, read_faults(v->fd, f, 8, 500));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x2f));
}

TEST_F(nest, detach_abort_blocks_dma)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x31));
	ASSERT_EQ(0, detach_table(v, VFIO_NEST_DETACH_ABORT));
	memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, v->p_dst, XFER));
	ASSERT_EQ(0, guest_bytes(&v->g, v->p_dst)[0]);
	ASSERT_EQ(0, guest_bytes(&v->g, v->p_dst)[XFER - 1]);
	EXPECT_ERRNO(ENOENT, detach_table(v, 0));
	/* And a fresh attach works again. */
	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x31));
}

TEST_F(nest, detach_to_stage2)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x32));
	ASSERT_EQ(0, detach_table(v, 0));
	/* Stage 2 alone: the IOVA is the IPA. */
	memset(guest_bytes(&v->g, v->p_a), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, v->p_a, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0x32));
}

TEST_F(nest, reattach_switches_table)
{
	struct vmm *v = &self->v;
	uint64_t root1 = v->g.root;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x51));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x51));

	/* A second table where VA_DST is p_b, another ASID, no INVALIDATE. */
	ASSERT_NE(0, guest_new_root(&v->g));
	ASSERT_EQ(0, guest_map(&v->g, VA_SRC, v->p_src));
	ASSERT_EQ(0, guest_map(&v->g, VA_DST, v->p_b));
	ASSERT_EQ(0, attach_table(v, ASID + 1));
	ASSERT_EQ(0, load_device(v, 0x52));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_b, 0x52));
	ASSERT_TRUE(holds(v, v->p_dst, 0x51));

	/* And back, same ASID as before: still no stale entry. */
	v->g.root = root1;
	ASSERT_EQ(0, attach_table(v, ASID + 1));
	ASSERT_EQ(0, load_device(v, 0x53));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x53));
}

TEST_F(nest, reattach_keeps_plumbing)
{
	struct vmm *v = &self->v;
	struct vfio_nest_attach_table at;
	int other;

	ASSERT_EQ(0, attach_table(v, ASID));

	at = attach_args(v, ASID);
	at.host_ipa = HOST_IPA + 0x10000;
	EXPECT_ERRNO(EBUSY, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_HOST_IPA, at.out_bad_field);
	at = attach_args(v, ASID);
	at.dev_id = v->edu.dev_id + 100;
	EXPECT_ERRNO(EBUSY, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_DEV_ID, at.out_bad_field);

	/* Another VM context cannot take the device. */
	other = open_vfio_nest();
	ASSERT_LE(0, other);
	at = attach_args(v, ASID);
	EXPECT_ERRNO(EBUSY, ioctl(other, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_DEVICE_FD, at.out_bad_field);
	close(other);

	/* Refused re-attaches left the table in force. */
	ASSERT_EQ(0, load_device(v, 0x61));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x61));
}

TEST_F(nest, not_attached)
{
	struct vmm *v = &self->v;
	struct vfio_nest_inv_entry e = { .scope = VFIO_NEST_INV_SCOPE_ALL };
	uint32_t num = 1;

	EXPECT_ERRNO(ENOENT, invalidate(v, &e, &num));
	EXPECT_EQ(0, num);
	EXPECT_ERRNO(ENOENT, detach_table(v, 0));
	EXPECT_ERRNO(ENOENT, detach_table(v, VFIO_NEST_DETACH_ABORT));
}

/* Each malformed field of ATTACH_TABLE: errno and the field reported. */
TEST_F(nest, attach_errors)
{
	struct vmm *v = &self->v;
	struct vfio_nest_attach_table at;
	uint64_t tcr = guest_tcr(&v->g, ips_for(&v->info));

#define ATTACH_ERR(_errno, _field, _stmt)				\
	do {								\
		at = attach_args(v, ASID);				\
		_stmt;							\
		EXPECT_ERRNO(_errno,					\
			     ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));\
		EXPECT_EQ(VFIO_NEST_FIELD_##_field, at.out_bad_field);	\
	} while (0)

	ATTACH_ERR(EOPNOTSUPP, FLAGS, at.flags = 1);
	ATTACH_ERR(EOPNOTSUPP, FLAGS, at.flags = 1u << 31);
	ATTACH_ERR(EPROTONOSUPPORT, FORMAT, at.format = 0);
	ATTACH_ERR(EPROTONOSUPPORT, FORMAT, at.format = 2);
	ATTACH_ERR(EBADF, DEVICE_FD, at.device_fd = -1);
	ATTACH_ERR(EBADF, DEVICE_FD, at.device_fd = 1000);
	ATTACH_ERR(ENODEV, DEVICE_FD, at.device_fd = v->edu.iommufd);
	ATTACH_ERR(ENODEV, DEVICE_FD, at.device_fd = v->fd);
	ATTACH_ERR(EBADF, IOMMUFD, at.iommufd = -1);
	ATTACH_ERR(EBADFD, IOMMUFD, at.iommufd = v->edu.device_fd);
	ATTACH_ERR(EBADFD, IOMMUFD, at.iommufd = v->fd);
	ATTACH_ERR(ENOENT, DEV_ID, at.dev_id = 0xdead);
	ATTACH_ERR(ENOENT, S2_PT_ID, at.s2_pt_id = 0xdead);
	ATTACH_ERR(EINVAL, HOST_IPA, at.host_ipa = HOST_IPA + 8);
	ATTACH_ERR(ERANGE, HOST_IPA, at.host_ipa = 1ull << v->info.out_oas);
	ATTACH_ERR(ERANGE, HOST_IPA,
		   at.ipa_size = 0x10000000; at.host_ipa = 0x10000000);
	ATTACH_ERR(EEXIST, HOST_IPA, at.host_ipa = GUEST_IPA + 0x100000);
	ATTACH_ERR(EINVAL, IPA_SIZE, at.ipa_size = 0x10000001);
	ATTACH_ERR(ERANGE, IPA_SIZE,
		   at.ipa_size = 2ull << v->info.out_oas);
	ATTACH_ERR(EINVAL, TCR, at.tcr = tcr | (1ull << 63));
	ATTACH_ERR(EINVAL, TCR, at.tcr = tcr | (1ull << 22));	/* A1 */
	ATTACH_ERR(EINVAL, TCR, at.tcr = tcr | (1ull << 37));	/* TBI0 */
	ATTACH_ERR(ERANGE, TCR_T0SZ,
		   at.tcr = (tcr & ~ARM_LPAE_TCR_PREP(T0SZ, ~0ull)) |
			    ARM_LPAE_TCR_PREP(T0SZ, 10));
	ATTACH_ERR(EINVAL, TCR_T0SZ,
		   at.tcr = (tcr & ~ARM_LPAE_TCR_PREP(T0SZ, ~0ull)) |
			    ARM_LPAE_TCR_PREP(T0SZ, 40));
	ATTACH_ERR(EINVAL, TCR_TG0, at.tcr = tcr | ARM_LPAE_TCR_PREP(TG0, 3));
	ATTACH_ERR(EINVAL, TCR_SH0,
		   at.tcr = (tcr & ~ARM_LPAE_TCR_PREP(SH0, ~0ull)) |
			    ARM_LPAE_TCR_PREP(SH0, ARM_LPAE_TCR_SH_RESERVED));
	ATTACH_ERR(EINVAL, TCR_EPD, at.tcr = tcr | ARM_LPAE_TCR_PREP(EPD0, 1);
		   at.ttbr0 = 0);
	ATTACH_ERR(EINVAL, TCR_IPS,
		   at.tcr = (tcr & ~ARM_LPAE_TCR_PREP(IPS, ~0ull)) |
			    ARM_LPAE_TCR_PREP(IPS, 7));
	if (v->info.out_oas < 52)
		ATTACH_ERR(ERANGE, TCR_IPS,
			   at.tcr = (tcr & ~ARM_LPAE_TCR_PREP(IPS, ~0ull)) |
				    ARM_LPAE_TCR_PREP(IPS, 6));
	if (!(v->info.out_caps & VFIO_NEST_CAP_HW_ACCESS))
		ATTACH_ERR(EINVAL, TCR_HA,
			   at.tcr = tcr | ARM_LPAE_TCR_PREP(HA, 1));
	if (!(v->info.out_caps & VFIO_NEST_CAP_HW_DIRTY))
		ATTACH_ERR(EINVAL, TCR_HD,
			   at.tcr = tcr | ARM_LPAE_TCR_PREP(HD, 1));
	ATTACH_ERR(ERANGE, ASID, at.asid = 256);	/* TCR.AS = 0: 8 bits */
	ATTACH_ERR(ERANGE, ASID, at.asid = 1u << 16;
		   at.tcr = tcr | ARM_LPAE_TCR_PREP(AS, 1));
	if (v->info.out_asid_bits < 16)
		ATTACH_ERR(EINVAL, TCR_AS,
			   at.tcr = tcr | ARM_LPAE_TCR_PREP(AS, 1));
	ATTACH_ERR(EINVAL, TTBR0, at.ttbr0 = 0);
	ATTACH_ERR(EINVAL, TTBR0, at.ttbr0 = v->g.root + 8);
	ATTACH_ERR(EINVAL, TTBR0, at.ttbr0 = v->g.root | (1ull << 48));
	ATTACH_ERR(ERANGE, TTBR0, at.ipa_size = GUEST_IPA);
	ATTACH_ERR(EINVAL, TTBR0, at.ttbr0 = HOST_IPA);
	ATTACH_ERR(EINVAL, TTBR1, at.ttbr1 = v->g.root);
	ATTACH_ERR(EINVAL, MAIR, at.mair = GUEST_MAIR | 0x0100);
	ATTACH_ERR(EINVAL, MAIR, at.mair = GUEST_MAIR | (0x40ull << 56));
#undef ATTACH_ERR

	/* Nothing above attached anything. */
	EXPECT_ERRNO(ENOENT, detach_table(v, 0));
	/* The boundaries that must pass. */
	at = attach_args(v, 255);
	EXPECT_EQ(0, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_NONE, at.out_bad_field);
	at = attach_args(v, (1u << v->info.out_asid_bits) - 1);
	if (v->info.out_asid_bits == 16)
		at.tcr |= ARM_LPAE_TCR_PREP(AS, 1);
	EXPECT_EQ(0, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
}

/*
 * The objects of an attach are allocated in the iommufd named, while VFIO
 * attaches the device through its own binding: another iommufd is refused
 * up front, even one where the device's id names an object.
 */
TEST_F(nest, attach_refused_with_another_iommufd)
{
	struct vmm *v = &self->v;
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_nest_attach_table at = attach_args(v, ASID);
	int other = open("/dev/iommu", O_RDWR);

	ASSERT_LE(0, other);
	do {
		ASSERT_EQ(0, ioctl(other, IOMMU_IOAS_ALLOC, &ioas));
	} while (ioas.out_ioas_id < v->edu.dev_id);
	at.iommufd = other;
	EXPECT_ERRNO(EXDEV, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_IOMMUFD, at.out_bad_field);
	close(other);
	EXPECT_EQ(0, attach_table(v, ASID));
}

/*
 * The HWPT form: the VMM allocates the NEST_PARENT stage 2 itself and the
 * table nests over it; DMA goes through both stages, DETACH_TABLE hands the
 * device back to that HWPT, and nothing of the module stays on it.
 */
TEST_F(nest, s2_hwpt_dma)
{
	struct vmm *v = &self->v;
	struct vfio_nest_attach_table at;
	uint32_t s2, num = 1;
	struct vfio_nest_inv_entry e = {
		.scope = VFIO_NEST_INV_SCOPE_VA,
		.flags = VFIO_NEST_INV_LEAF,
		.asid = ASID,
		.granule_shift = 12,
		.iova = VA_DST,
		.nr_pages = 1,
	};

	ASSERT_NE(0, v->info.out_caps & VFIO_NEST_CAP_S2_HWPT);
	ASSERT_EQ(0, vfio_edu_hwpt_alloc(&v->edu, v->edu.ioas_id,
					 IOMMU_HWPT_ALLOC_NEST_PARENT, &s2));
	/* The VMM's device already uses it, as a VMM's would. */
	ASSERT_EQ(0, vfio_edu_attach(&v->edu, s2));

	ASSERT_EQ(0, attach_table_hwpt(v, ASID, s2));
	ASSERT_EQ(0, load_device(v, 0x2a));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x2a));
	ASSERT_EQ(0, invalidate(v, &e, &num));
	ASSERT_EQ(1, num);

	/* The VMM cannot pull its stage 2 from under the table. */
	EXPECT_EQ(-EBUSY, vfio_edu_destroy(&v->edu, s2));

	/* A re-attach keeps the form: the other one is a plumbing change. */
	at = attach_args(v, ASID + 1);
	EXPECT_ERRNO(EBUSY, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));
	EXPECT_EQ(VFIO_NEST_FIELD_S2_HWPT_ID, at.out_bad_field);
	ASSERT_EQ(0, attach_table_hwpt(v, ASID + 1, s2));
	ASSERT_EQ(0, load_device(v, 0x2b));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x2b));

	/* Detach: back on the VMM's stage 2, IOVA = IPA. */
	ASSERT_EQ(0, detach_table(v, 0));
	memset(guest_bytes(&v->g, v->p_a), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, v->p_a, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0x2b));

	/* A first attach again, then the module's objects go with close(). */
	ASSERT_EQ(0, attach_table_hwpt(v, ASID, s2));
	ASSERT_EQ(0, load_device(v, 0x2c));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x2c));
	ASSERT_EQ(0, close(v->fd));
	v->fd = -1;
	/* Nothing of the module holds the HWPT: the VMM frees it. */
	ASSERT_EQ(0, vfio_edu_destroy(&v->edu, s2));
}

/*
 * A guest frees a domain and reuses its ASID for the next one. After a
 * DETACH back to the VMM's stage 2, a first attach of another table with
 * the same ASID must not hit what the first table left in the TLB, however
 * the module and the kernel share the work (today the vIOMMU goes with the
 * DETACH, and the kernel flushes its VMID; the module also drops the ASID
 * before a new STE goes in).
 */
TEST_F(nest, asid_reused_after_detach)
{
	struct vmm *v = &self->v;
	uint32_t s2;

	ASSERT_EQ(0, vfio_edu_hwpt_alloc(&v->edu, v->edu.ioas_id,
					 IOMMU_HWPT_ALLOC_NEST_PARENT, &s2));
	ASSERT_EQ(0, vfio_edu_attach(&v->edu, s2));
	ASSERT_EQ(0, attach_table_hwpt(v, ASID, s2));
	ASSERT_EQ(0, load_device(v, 0x3a));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x3a));
	ASSERT_EQ(0, detach_table(v, 0));

	/* A new table, the same ASID, VA_DST now p_b; no INVALIDATE. */
	ASSERT_NE(0, guest_new_root(&v->g));
	ASSERT_EQ(0, guest_map(&v->g, VA_SRC, v->p_src));
	ASSERT_EQ(0, guest_map(&v->g, VA_DST, v->p_b));
	ASSERT_EQ(0, attach_table_hwpt(v, ASID, s2));
	ASSERT_EQ(0, load_device(v, 0x3b));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_b, 0x3b));
	ASSERT_TRUE(holds(v, v->p_dst, 0x3a));
	ASSERT_EQ(0, close(v->fd));
	v->fd = -1;
	ASSERT_EQ(0, vfio_edu_destroy(&v->edu, s2));
}

/* Does the kernel log hold a vfio_nest line with @what? */
static bool logged(const char *what)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "dmesg | grep 'vfio_nest: ' | grep -qF '%s'", what);
	return system(cmd) == 0;
}

/* Each refusal of s2_hwpt_id: errno and field, and nothing left behind. */
TEST_F(nest, s2_hwpt_errors)
{
	struct vmm *v = &self->v;
	struct iommu_viommu_alloc viommu = {
		.size = sizeof(viommu),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = v->edu.dev_id,
	};
	struct vfio_nest_attach_table at;
	uint32_t s2, paging, ioas2;

	ASSERT_EQ(0, vfio_edu_hwpt_alloc(&v->edu, v->edu.ioas_id,
					 IOMMU_HWPT_ALLOC_NEST_PARENT, &s2));
	ASSERT_EQ(0, vfio_edu_hwpt_alloc(&v->edu, v->edu.ioas_id, 0,
					 &paging));
	viommu.hwpt_id = s2;
	ASSERT_EQ(0, ioctl(v->edu.iommufd, IOMMU_VIOMMU_ALLOC, &viommu));
	ASSERT_EQ(0, vfio_edu_ioas_alloc(v->edu.iommufd, &ioas2));

#define S2_ERR(_errno, _field, _stmt)					\
	do {								\
		at = attach_args(v, ASID);				\
		at.s2_hwpt_id = s2;					\
		_stmt;							\
		EXPECT_ERRNO(_errno,					\
			     ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, &at));\
		EXPECT_EQ(VFIO_NEST_FIELD_##_field, at.out_bad_field);	\
	} while (0)

	/*
	 * No object with that id. Refusals are the VMM's (or its guest's) to
	 * cause: they name the field in out_bad_field and never reach the
	 * kernel log (a guest could flood it through its VMM).
	 */
	S2_ERR(ENOENT, S2_HWPT_ID, at.s2_hwpt_id = 0xdead);
	S2_ERR(EINVAL, S2_HWPT_ID, at.s2_hwpt_id = v->edu.ioas_id);
	EXPECT_FALSE(logged("refused"));
	S2_ERR(ENOENT, S2_HWPT_ID, at.s2_hwpt_id = ~0u);
	/* Objects of another type. */
	S2_ERR(EINVAL, S2_HWPT_ID, at.s2_hwpt_id = ioas2);
	S2_ERR(EINVAL, S2_HWPT_ID, at.s2_hwpt_id = v->edu.dev_id);
	S2_ERR(EINVAL, S2_HWPT_ID, at.s2_hwpt_id = viommu.out_viommu_id);
	/* A paging HWPT, but not a NEST_PARENT one. */
	S2_ERR(EINVAL, S2_HWPT_ID, at.s2_hwpt_id = paging);
	/* The IOAS is still checked first, and the rest as in the IOAS form. */
	S2_ERR(ENOENT, S2_PT_ID, at.s2_pt_id = 0xdead);
	S2_ERR(ENOENT, S2_PT_ID, at.s2_pt_id = s2);
	S2_ERR(EEXIST, HOST_IPA, at.host_ipa = GUEST_IPA + 0x100000);
	S2_ERR(EINVAL, TTBR0, at.ttbr0 = HOST_IPA);
#undef S2_ERR

	/* Nothing above attached anything or kept a hold on the HWPTs. */
	EXPECT_ERRNO(ENOENT, detach_table(v, 0));
	EXPECT_EQ(0, vfio_edu_destroy(&v->edu, paging));
	EXPECT_EQ(0, vfio_edu_destroy(&v->edu, viommu.out_viommu_id));
	EXPECT_EQ(0, vfio_edu_destroy(&v->edu, ioas2));
	/* The refusals left the host window free: the good request works. */
	ASSERT_EQ(0, attach_table_hwpt(v, ASID, s2));
	ASSERT_EQ(0, load_device(v, 0x2d));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x2d));
	ASSERT_EQ(0, detach_table(v, VFIO_NEST_DETACH_ABORT));
	EXPECT_EQ(0, vfio_edu_destroy(&v->edu, s2));
}

/* Each malformed field of INVALIDATE and its entries. */
TEST_F(nest, invalidate_errors)
{
	struct vmm *v = &self->v;
	struct vfio_nest_inv_entry e[4];
	struct vfio_nest_invalidate inv;
	struct {
		struct vfio_nest_inv_entry e;
		uint64_t tail;
	} big;
	uint32_t num;

	ASSERT_EQ(0, attach_table(v, ASID));

#define INV_RESET()							\
	do {								\
		memset(e, 0, sizeof(e));				\
		e[0].scope = VFIO_NEST_INV_SCOPE_VA;			\
		e[0].asid = ASID;					\
		e[0].granule_shift = 12;				\
		e[0].iova = VA_DST;					\
		e[0].nr_pages = 1;					\
		inv = (struct vfio_nest_invalidate) {			\
			.size = sizeof(inv),				\
			.device_fd = v->edu.device_fd,			\
			.entry_len = sizeof(e[0]),			\
			.entry_num = 1,					\
			.entries_uptr = (uintptr_t)e,			\
		};							\
	} while (0)
#define INV_ERR(_errno, _field, _stmt)					\
	do {								\
		INV_RESET();						\
		_stmt;							\
		EXPECT_ERRNO(_errno,					\
			     ioctl(v->fd, VFIO_NEST_INVALIDATE, &inv));	\
		EXPECT_EQ(VFIO_NEST_FIELD_##_field, inv.out_bad_field);	\
		EXPECT_EQ(0, inv.entry_num);				\
	} while (0)

	INV_RESET();
	ASSERT_EQ(0, ioctl(v->fd, VFIO_NEST_INVALIDATE, &inv));
	EXPECT_EQ(1, inv.entry_num);

	INV_ERR(EOPNOTSUPP, FLAGS, inv.flags = 1);
	INV_ERR(EINVAL, RESERVED, inv.__reserved = 1);
	INV_ERR(EINVAL, RESERVED, inv.__reserved2 = 1);
	INV_ERR(EBADF, DEVICE_FD, inv.device_fd = -1);
	INV_ERR(ENOENT, DEVICE_FD, inv.device_fd = v->edu.iommufd);
	INV_ERR(EINVAL, ENTRY_LEN, inv.entry_len = 8);
	INV_ERR(EINVAL, ENTRY_LEN, inv.entry_len = 8192);
	INV_ERR(EINVAL, ENTRY_LEN, inv.entry_len = 4097);	/* any page size */
	INV_ERR(EINVAL, ENTRY_NUM,
		inv.entry_num = VFIO_NEST_INV_MAX_ENTRIES + 1);
	INV_ERR(EFAULT, NONE, inv.entries_uptr = 0);
	INV_ERR(EINVAL, ENTRY_SCOPE, e[0].scope = 3);
	INV_ERR(EOPNOTSUPP, ENTRY_FLAGS, e[0].flags = 4);
	INV_ERR(EINVAL, ENTRY_RESERVED, e[0].__reserved = 1);
	INV_ERR(ERANGE, ENTRY_ASID, e[0].asid = 1u << v->info.out_asid_bits);
	INV_ERR(EINVAL, ENTRY_GRANULE, e[0].granule_shift = 13);
	INV_ERR(EINVAL, ENTRY_GRANULE, e[0].granule_shift = 39);
	INV_ERR(EINVAL, ENTRY_GRANULE, e[0].granule_shift = 0);
	INV_ERR(EINVAL, ENTRY_IOVA, e[0].iova = VA_DST + 8);
	INV_ERR(EINVAL, ENTRY_IOVA,
		e[0].granule_shift = 21; e[0].iova = VA_DST + 0x1000);
	INV_ERR(EINVAL, ENTRY_NR_PAGES, e[0].nr_pages = 0);
	INV_ERR(EOVERFLOW, ENTRY_NR_PAGES, e[0].nr_pages = 1ull << 60);
	INV_ERR(EOVERFLOW, ENTRY_NR_PAGES,
		e[0].iova = ~0xfffull; e[0].nr_pages = 2);
	INV_ERR(EINVAL, ENTRY_ASID,
		e[0].scope = VFIO_NEST_INV_SCOPE_ALL; e[0].granule_shift = 0;
		e[0].iova = 0; e[0].nr_pages = 0);
	INV_ERR(EINVAL, ENTRY_IOVA,
		e[0].scope = VFIO_NEST_INV_SCOPE_ASID; e[0].granule_shift = 0;
		e[0].nr_pages = 0);

	/* A longer entry is fine with a zero tail, E2BIG otherwise. */
	INV_RESET();
	big.e = e[0];
	big.tail = 0;
	inv.entry_len = sizeof(big);
	inv.entries_uptr = (uintptr_t)&big;
	EXPECT_EQ(0, ioctl(v->fd, VFIO_NEST_INVALIDATE, &inv));
	EXPECT_EQ(1, inv.entry_num);
	big.tail = 1;
	inv.entry_num = 1;
	EXPECT_ERRNO(E2BIG, ioctl(v->fd, VFIO_NEST_INVALIDATE, &inv));
	EXPECT_EQ(VFIO_NEST_FIELD_ENTRY_LEN, inv.out_bad_field);
	EXPECT_EQ(0, inv.entry_num);

	/* A bad entry after good ones: those are done and counted. */
	INV_RESET();
	e[1] = e[0];
	e[2] = e[0];
	e[3] = e[0];
	e[2].scope = 7;
	num = 4;
	EXPECT_ERRNO(EINVAL, invalidate(v, e, &num));
	EXPECT_EQ(2, num);
	/* The same when the good ones merge into one range. */
	e[1].iova = e[0].iova + 0x1000;
	e[2] = e[1];
	e[2].iova += 0x1000;
	e[2].nr_pages = 0;
	num = 4;
	EXPECT_ERRNO(EINVAL, invalidate(v, e, &num));
	EXPECT_EQ(2, num);

	/* Zero entries: nothing to do, not an error. */
	num = 0;
	EXPECT_EQ(0, invalidate(v, e, &num));
	EXPECT_EQ(0, num);
#undef INV_ERR
#undef INV_RESET
}

TEST_F(nest, invalidate_batches)
{
	static struct vfio_nest_inv_entry e[VFIO_NEST_INV_MAX_ENTRIES];
	struct vmm *v = &self->v;
	uint32_t i, num;

	ASSERT_EQ(0, attach_table(v, ASID));
	for (i = 0; i < VFIO_NEST_INV_MAX_ENTRIES; i++) {
		e[i].scope = i % 3;
		e[i].flags = i % 7 ? VFIO_NEST_INV_LEAF : VFIO_NEST_INV_CONFIG;
		e[i].asid = e[i].scope ? ASID : 0;
		if (e[i].scope == VFIO_NEST_INV_SCOPE_VA) {
			e[i].granule_shift = i % 2 ? 12 : 21;
			e[i].iova = (uint64_t)i << 21;
			e[i].nr_pages = 1 + i % 600;
		}
	}
	num = VFIO_NEST_INV_MAX_ENTRIES;
	ASSERT_EQ(0, invalidate(v, e, &num));
	ASSERT_EQ(VFIO_NEST_INV_MAX_ENTRIES, num);

	/* Still translating. */
	ASSERT_EQ(0, load_device(v, 0x71));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x71));
}

/* ATTACH/DETACH rounds: about one in six loses the race (debug kernel). */
#define SWAP_TRIES	100

struct slot_racer {
	int slot;		/* where iommufd installs the vEVENTQ fd */
	int fifo;
	volatile bool stop;
};

static void *swap_slot(void *arg)
{
	struct slot_racer *r = arg;

	while (!r->stop) {
		dup2(r->fifo, r->slot);
		close(r->slot);
	}
	return NULL;
}

/*
 * Another VMM thread dup2()s a FIFO into the fd slot where iommufd puts the
 * vEVENTQ while ATTACH_TABLE takes it out of the fd table: the module must
 * adopt only an iommufd vEVENTQ. (A FIFO adopted as the queue registered
 * two wait queues with a one-slot poll table: use-after-free at the first
 * FIFO wake-up after DETACH.) Every ATTACH succeeds or fails with EBADF.
 * Slow under KASAN: its own timeout.
 */
TEST_F_TIMEOUT(nest, veventq_fd_swapped, 240)
{
	char path[] = "/tmp/vfio-nest-fifo";
	struct slot_racer r = { 0 };
	struct vmm *v = &self->v;
	int i, ret, refused = 0;
	char c = 'x';
	pthread_t t;

	unlink(path);
	ASSERT_EQ(0, mkfifo(path, 0600));
	r.fifo = open(path, O_RDWR);
	ASSERT_LE(0, r.fifo);
	r.slot = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, r.slot);
	close(r.slot);
	ASSERT_EQ(0, pthread_create(&t, NULL, swap_slot, &r));
	for (i = 0; i < SWAP_TRIES; i++) {
		ret = attach_table(v, ASID);
		if (ret) {
			ASSERT_EQ(EBADF, errno);
			refused++;
			continue;
		}
		ASSERT_EQ(0, detach_table(v, 0));
	}
	r.stop = true;
	pthread_join(t, NULL);
	/* Wake whatever still waits on the FIFO. */
	ASSERT_EQ(1, write(r.fifo, &c, 1));
	ASSERT_EQ(1, read(r.fifo, &c, 1));
	close(r.fifo);
	unlink(path);
	TH_LOG("%d of %d attaches lost the race (EBADF)", refused, SWAP_TRIES);

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x6b));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x6b));
}

/*
 * close_in_child - the last reference to /dev/vfio-nest goes in a child:
 * at its exit, or (@exec) at its exec of true(1) with the fd close-on-exec.
 * The parent, whose mm the context belongs to, closes its copy first.
 */
static int close_in_child(struct vmm *v, bool exec)
{
	int go[2], status;
	char c;
	pid_t pid;

	if (pipe(go))
		return -1;
	if (exec && fcntl(v->fd, F_SETFD, FD_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		if (exec)
			execlp("true", "true", (char *)NULL);
		_exit(0);
	}
	close(go[0]);
	close(v->fd);
	v->fd = -1;
	if (write(go[1], "x", 1) != 1)
		return -1;
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * close_in_kthread - the last reference to /dev/vfio-nest goes in a kernel
 * thread: the fd travels in a unix socket's queue together with that
 * socket itself, a cycle no process can reach once both ends are closed;
 * the socket garbage collector, a kernel worker, drops it, and the fd's
 * last fput runs there. Returns once the device's DMA stops going through
 * the guest table (the teardown is asynchronous), -1 after 10 s.
 */
static int close_in_kthread(struct vmm *v)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int sv[2], fds[2], i;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		return -1;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	fds[0] = v->fd;
	fds[1] = sv[1];
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	/* Queued on sv[1], which now holds a reference to itself. */
	if (sendmsg(sv[0], &msg, 0) != 1)
		return -1;
	close(v->fd);
	v->fd = -1;
	close(sv[1]);
	close(sv[0]);
	for (i = 0; i < 100; i++) {
		memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
		if (vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER))
			return -1;
		if (!guest_bytes(&v->g, v->p_dst)[0])
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

/*
 * The last close from another process (inherited over fork; or closed on
 * exec) or from a kernel thread: the teardown still runs, in the owner's
 * mm: the guest table is uninstalled (DMA through it is blocked) and the
 * device attaches again (it once stayed nested, and every later ATTACH
 * failed with EEXIST).
 */
FIXTURE(nest_foreign_close) {
	struct vmm v;
};

FIXTURE_VARIANT(nest_foreign_close) {
	bool exec;
	bool kthread;
};

FIXTURE_VARIANT_ADD(nest_foreign_close, child_exit) {
	.exec = false,
};

FIXTURE_VARIANT_ADD(nest_foreign_close, child_exec) {
	.exec = true,
};

FIXTURE_VARIANT_ADD(nest_foreign_close, kernel_thread) {
	.kthread = true,
};

FIXTURE_SETUP(nest_foreign_close)
{
	int ret = vmm_setup(&self->v);

	if (skip_reason(ret))
		SKIP(return, "%s", skip_reason(ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(nest_foreign_close)
{
	vmm_teardown(&self->v);
}

TEST_F(nest_foreign_close, torn_down)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xc1));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0xc1));
	ASSERT_EQ(0, variant->kthread ? close_in_kthread(v) :
				      close_in_child(v, variant->exec));

	/* Blocked: VA_DST no longer translates through the guest table. */
	memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_EQ(0, guest_bytes(&v->g, v->p_dst)[0]);

	v->fd = open_vfio_nest();
	ASSERT_LE(0, v->fd);
	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xc2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0xc2));
}

/* Another process may not drive a context: it belongs to its first mm. */
TEST_F(nest, foreign_mm_refused)
{
	struct vmm *v = &self->v;
	int status;
	pid_t pid;

	ASSERT_EQ(0, attach_table(v, ASID));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vfio_nest_info info = v->info;
		uint32_t num = 1;
		struct vfio_nest_inv_entry e = {
			.scope = VFIO_NEST_INV_SCOPE_ASID, .asid = ASID,
		};

		info.size = sizeof(info);
		if (ioctl(v->fd, VFIO_NEST_GET_INFO, &info) != -1 ||
		    errno != EPERM)
			_exit(1);
		if (detach_table(v, 0) != -1 || errno != EPERM)
			_exit(2);
		if (invalidate(v, &e, &num) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, load_device(v, 0xc3));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0xc3));
}

/*
 * User memory the module writes back: a read-only ATTACH argument fails
 * before the device is attached (not after, with the change made); an
 * INVALIDATE whose entry 10 is unmapped reports 10 entries handled (block
 * copies once reported 0); a read() into a read-only buffer keeps the
 * fault records for the next read() (they were once dropped).
 */
TEST_F(nest, user_memory_contract)
{
	struct vmm *v = &self->v;
	long pg = getpagesize();
	struct vfio_nest_attach_table *at;
	struct vfio_nest_inv_entry *e;
	struct vfio_nest_fault f[8];
	uint32_t num = 20, i;
	uint8_t *mem;

	mem = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);

	at = (void *)mem;
	*at = attach_args(v, ASID);
	ASSERT_EQ(0, mprotect(mem, pg, PROT_READ));
	EXPECT_ERRNO(EFAULT, ioctl(v->fd, VFIO_NEST_ATTACH_TABLE, at));
	EXPECT_ERRNO(ENOENT, detach_table(v, 0));
	ASSERT_EQ(0, mprotect(mem, pg, PROT_READ | PROT_WRITE));

	ASSERT_EQ(0, attach_table(v, ASID));
	e = (void *)(mem + pg - 10 * sizeof(*e));
	memset(e, 0, 10 * sizeof(*e));
	for (i = 0; i < 10; i++) {
		e[i].scope = VFIO_NEST_INV_SCOPE_ASID;
		e[i].asid = ASID;
	}
	ASSERT_EQ(0, mprotect(mem + pg, pg, PROT_NONE));
	EXPECT_ERRNO(EFAULT, invalidate(v, e, &num));
	EXPECT_EQ(10, num);

	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_HOLE + 0x40, 4));
	ASSERT_EQ(0, mprotect(mem, pg, PROT_READ));
	usleep(100000);
	EXPECT_ERRNO(EFAULT, read(v->fd, mem, sizeof(f)));
	ASSERT_EQ(1, read_faults(v->fd, f, 8, 2000));
	EXPECT_EQ(VA_HOLE + 0x40, f[0].iova);
	munmap(mem, 2 * pg);
}

TEST_F(nest, close_blocks_dma)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0x81));
	/* Mid-DMA: kick one and close without waiting. */
	vfio_edu_write64(&v->edu, EDU_REG_DMA_SRC, EDU_DMA_BUF_ADDR);
	vfio_edu_write64(&v->edu, EDU_REG_DMA_DST, VA_DST);
	vfio_edu_write64(&v->edu, EDU_REG_DMA_COUNT, XFER);
	vfio_edu_write64(&v->edu, EDU_REG_DMA_CMD,
			 EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
	ASSERT_EQ(0, close(v->fd));
	v->fd = -1;
	ASSERT_EQ(0, vfio_edu_dma_wait(&v->edu, EDU_DMA_TIMEOUT_MS));

	memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, v->p_dst, XFER));
	ASSERT_EQ(0, guest_bytes(&v->g, v->p_dst)[0]);

	/* The VMM still owns a working device. */
	ASSERT_EQ(0, vfio_edu_attach(&v->edu, v->edu.ioas_id));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, v->p_dst, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x81));
}

/*
 * The VMM closes its device and iommufd first, /dev/vfio-nest last: the
 * module's references keep both alive until then, and the device comes
 * back clean.
 */
TEST_F(nest, vmm_fds_closed_first)
{
	struct vmm *v = &self->v;
	struct vmm again;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xe1));
	munmap((void *)v->edu.bar0, v->edu.bar0_size);
	v->edu.bar0 = NULL;
	ASSERT_EQ(0, close(v->edu.device_fd));
	ASSERT_EQ(0, close(v->edu.iommufd));
	v->edu.device_fd = -1;
	v->edu.iommufd = -1;
	/* Nothing to name the device by any more. */
	EXPECT_ERRNO(EBADF, detach_table(v, 0));
	ASSERT_EQ(0, close(v->fd));
	v->fd = -1;

	ASSERT_EQ(0, vmm_setup(&again));
	ASSERT_EQ(0, attach_table(&again, ASID));
	ASSERT_EQ(0, load_device(&again, 0xe2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&again.edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(&again, again.p_dst, 0xe2));
	vmm_teardown(&again);
}

/*
 * The device is unbound from vfio-pci while attached, after the VMM closed
 * its device fd (/dev/vfio-nest stays open): the unbind completes (the
 * module lets go of its file, as a close would), and the device, bound
 * again, attaches afresh.
 */
TEST_F_TIMEOUT(nest, unbind_while_attached, 120)
{
	const char *drv = "/sys/bus/pci/drivers/vfio-pci";
	struct vmm *v = &self->v;
	char path[PATH_MAX];
	int status = 0, i, rebind;
	struct vmm again;
	bool hung;
	pid_t pid;

	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xf1));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0xf1));
	munmap((void *)v->edu.bar0, v->edu.bar0_size);
	v->edu.bar0 = NULL;
	ASSERT_EQ(0, close(v->edu.device_fd));
	v->edu.device_fd = -1;

	snprintf(path, sizeof(path), "%s/unbind", drv);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Only the parent's copy may keep /dev/vfio-nest open */
		close(v->fd);
		_exit(vfio_edu_write_sysfs(path, v->edu.bdf) ? 1 : 0);
	}
	for (i = 0; i < 300 && !waitpid(pid, &status, WNOHANG); i++)
		usleep(100 * 1000);
	hung = i == 300;
	if (hung) {
		/* Closing /dev/vfio-nest lets the unbind finish. */
		close(v->fd);
		v->fd = -1;
		waitpid(pid, &status, 0);
	}
	snprintf(path, sizeof(path), "%s/bind", drv);
	rebind = vfio_edu_write_sysfs(path, v->edu.bdf);
	ASSERT_FALSE(hung) TH_LOG("unbind still waiting after 30 s");
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(0, rebind);

	ASSERT_EQ(0, vmm_setup(&again));
	ASSERT_EQ(0, attach_table(&again, ASID));
	ASSERT_EQ(0, load_device(&again, 0xf2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&again.edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(&again, again.p_dst, 0xf2));
	vmm_teardown(&again);
}

TEST_F(nest, rmmod_while_in_use)
{
	struct vmm *v = &self->v;

	ASSERT_EQ(0, attach_table(v, ASID));
	/* The open file pins the module. */
	ASSERT_NE(0, system("rmmod vfio_nest 2>/dev/null"));
	ASSERT_EQ(0, load_device(v, 0x91));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0x91));
	ASSERT_EQ(0, close(v->fd));
	v->fd = -1;
	ASSERT_EQ(0, system("rmmod vfio_nest"));
	ASSERT_EQ(0, system("modprobe vfio_nest"));
}

/*
 * Stale translation without INVALIDATE, fresh one with it, for each scope.
 */
FIXTURE(nest_inv) {
	struct vmm v;
};

FIXTURE_VARIANT(nest_inv) {
	uint32_t scope;
	uint32_t flags;
	uint32_t granule_shift;
	uint64_t nr_pages;
	bool split;	/* one entry per page: the module merges them */
	uint32_t stride; /* split: pages from one entry to the next (0: 1) */
	bool from_zero;	/* the range starts at VA 0, not at VA_STALE */
};

FIXTURE_VARIANT_ADD(nest_inv, va_leaf) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.flags = VFIO_NEST_INV_LEAF,
	.granule_shift = 12,
	.nr_pages = 1,
};

FIXTURE_VARIANT_ADD(nest_inv, va_range) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.granule_shift = 12,
	.nr_pages = 37,
};

FIXTURE_VARIANT_ADD(nest_inv, va_split) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.flags = VFIO_NEST_INV_LEAF,
	.granule_shift = 12,
	.nr_pages = 5,
	.split = true,
};

/*
 * One page every other page: the module may cover them with one range
 * (twice the pages asked for, at most), which must still reach VA_STALE.
 */
FIXTURE_VARIANT_ADD(nest_inv, va_scattered) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.flags = VFIO_NEST_INV_LEAF,
	.granule_shift = 12,
	.nr_pages = 6,
	.split = true,
	.stride = 2,
};

/* One page in four: too sparse to merge, each entry its own command. */
FIXTURE_VARIANT_ADD(nest_inv, va_sparse) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.flags = VFIO_NEST_INV_LEAF,
	.granule_shift = 12,
	.nr_pages = 6,
	.split = true,
	.stride = 4,
};

/*
 * Every entry of a full batch contiguous with the last: they merge into
 * one range and add no command, yet each needs its slot in the module's
 * per-chunk bookkeeping (1024 of them): more than a chunk of merged entries
 * once wrote past that array.
 */
FIXTURE_VARIANT_ADD(nest_inv, va_split_max) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.flags = VFIO_NEST_INV_LEAF,
	.granule_shift = 12,
	.nr_pages = VFIO_NEST_INV_MAX_ENTRIES,
	.split = true,
};

/*
 * Ranges of 2^32 and 2^36 pages from VA 0 (with range invalidation, SCALE
 * is 5 bits): once truncated to one and sixteen pages at VA 0, which left
 * VA_STALE stale.
 */
FIXTURE_VARIANT_ADD(nest_inv, va_2e32_pages) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.granule_shift = 12,
	.nr_pages = 1ull << 32,
	.from_zero = true,
};

FIXTURE_VARIANT_ADD(nest_inv, va_2e36_pages) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.granule_shift = 12,
	.nr_pages = 1ull << 36,
	.from_zero = true,
};

FIXTURE_VARIANT_ADD(nest_inv, va_block) {
	.scope = VFIO_NEST_INV_SCOPE_VA,
	.granule_shift = 21,
	.nr_pages = 1,
};

FIXTURE_VARIANT_ADD(nest_inv, asid) {
	.scope = VFIO_NEST_INV_SCOPE_ASID,
};

FIXTURE_VARIANT_ADD(nest_inv, all) {
	.scope = VFIO_NEST_INV_SCOPE_ALL,
};

FIXTURE_VARIANT_ADD(nest_inv, config) {
	.scope = VFIO_NEST_INV_SCOPE_ASID,
	.flags = VFIO_NEST_INV_CONFIG,
};

FIXTURE_SETUP(nest_inv)
{
	int ret = vmm_setup(&self->v);

	if (skip_reason(ret))
		SKIP(return, "%s", skip_reason(ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(nest_inv)
{
	vmm_teardown(&self->v);
}

TEST_F(nest_inv, stale_then_fresh)
{
	struct vmm *v = &self->v;
	struct vfio_nest_inv_entry e = {
		.scope = variant->scope,
		.flags = variant->flags,
		.asid = variant->scope == VFIO_NEST_INV_SCOPE_ALL ? 0 : ASID,
	};
	static struct vfio_nest_inv_entry split[VFIO_NEST_INV_MAX_ENTRIES];
	uint32_t num = 1, i;

	if (variant->scope == VFIO_NEST_INV_SCOPE_VA) {
		e.granule_shift = variant->granule_shift;
		e.iova = VA_STALE & ~((1ull << variant->granule_shift) - 1);
		if (variant->from_zero)
			e.iova = 0;
		e.nr_pages = variant->nr_pages;
	}
	if (variant->split) {
		uint64_t step = (variant->stride ?: 1) * 0x1000ull;

		/* VA_STALE is the fourth entry, each page its own entry. */
		for (i = 0; i < variant->nr_pages; i++) {
			split[i] = e;
			split[i].iova = VA_STALE + (i - 3ull) * step;
			split[i].nr_pages = 1;
		}
		num = variant->nr_pages;
	}

	ASSERT_EQ(0, guest_map(&v->g, VA_STALE, v->p_a));
	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xa1));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0xa1));

	/* The guest remaps and "forgets" to invalidate: the IOTLB is stale. */
	ASSERT_EQ(0, guest_map(&v->g, VA_STALE, v->p_b));
	ASSERT_EQ(0, load_device(v, 0xa2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0xa2));
	ASSERT_FALSE(holds(v, v->p_b, 0xa2));

	ASSERT_EQ(0, invalidate(v, variant->split ? split : &e, &num));
	ASSERT_EQ(variant->split ? variant->nr_pages : 1, num);
	ASSERT_EQ(0, load_device(v, 0xa3));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_b, 0xa3));
	ASSERT_TRUE(holds(v, v->p_a, 0xa2));
}

/*
 * Each translation granule: tables of that granule, DMA through them, the
 * IOTLB stale until a VA invalidation of that granule, faults.
 */
FIXTURE(nest_granule) {
	struct vmm v;
};

FIXTURE_VARIANT(nest_granule) {
	unsigned int gshift;
};

FIXTURE_VARIANT_ADD(nest_granule, g16k) {
	.gshift = 14,
};

FIXTURE_VARIANT_ADD(nest_granule, g64k) {
	.gshift = 16,
};

FIXTURE_SETUP(nest_granule)
{
	int ret = vmm_setup_granule(&self->v, variant->gshift);

	if (skip_reason(ret))
		SKIP(return, "%s", skip_reason(ret));
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(nest_granule)
{
	vmm_teardown(&self->v);
}

TEST_F(nest_granule, dma_invalidate_fault)
{
	struct vmm *v = &self->v;
	struct vfio_nest_inv_entry e = {
		.scope = VFIO_NEST_INV_SCOPE_VA,
		.flags = VFIO_NEST_INV_LEAF,
		.asid = ASID,
		.granule_shift = variant->gshift,
		.iova = VA_STALE,
		.nr_pages = 1,
	};
	struct vfio_nest_fault f[4];
	uint32_t num = 1;

	ASSERT_EQ(0, guest_map(&v->g, VA_STALE, v->p_a));
	ASSERT_EQ(0, attach_table(v, ASID));
	ASSERT_EQ(0, load_device(v, 0xd1));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(v, v->p_dst, 0xd1));

	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0xd1));
	ASSERT_EQ(0, guest_map(&v->g, VA_STALE, v->p_b));
	ASSERT_EQ(0, load_device(v, 0xd2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_a, 0xd2));
	ASSERT_EQ(0, invalidate(v, &e, &num));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_STALE, XFER));
	ASSERT_TRUE(holds(v, v->p_b, 0xd2));

	/* A leaf size the granule cannot have. */
	e.granule_shift = 12;
	num = 1;
	EXPECT_ERRNO(EINVAL, invalidate(v, &e, &num));

	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v->edu, 0, VA_HOLE, 4));
	ASSERT_EQ(1, read_faults(v->fd, f, 4, 2000));
	EXPECT_EQ(VA_HOLE, f[0].iova);
	EXPECT_EQ(VFIO_NEST_FAULT_TRANSLATION, f[0].reason);
}

/*
 * The VMM process dies mid-DMA with the table attached: iommufd's own
 * teardown frees everything, the device comes back usable, and the module
 * holds no reference (it unloads).
 */
TEST(kill_mid_dma)
{
	struct vmm v;
	pid_t pid;
	int status, ret;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		ret = vmm_setup(&v);
		if (ret)
			_exit(ret == -EOPNOTSUPP || ret == -ENOENT ||
			      ret == -ENODEV ? 4 : 1);
		if (attach_table(&v, ASID) || load_device(&v, 0xb1))
			_exit(1);
		vfio_edu_write64(&v.edu, EDU_REG_DMA_SRC, EDU_DMA_BUF_ADDR);
		vfio_edu_write64(&v.edu, EDU_REG_DMA_DST, VA_DST);
		vfio_edu_write64(&v.edu, EDU_REG_DMA_COUNT, XFER);
		vfio_edu_write64(&v.edu, EDU_REG_DMA_CMD,
				 EDU_DMA_CMD_START | EDU_DMA_CMD_TO_RAM);
		raise(SIGKILL);
		_exit(1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
		SKIP(return, "no nesting-capable SMMU, edu or module");
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));

	/* Let edu finish whatever it was doing, then use it again. */
	usleep(300000);
	ret = vmm_setup(&v);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, attach_table(&v, ASID));
	ASSERT_EQ(0, load_device(&v, 0xb2));
	ASSERT_EQ(0, vfio_edu_dma_to_ram(&v.edu, 0, VA_DST, XFER));
	ASSERT_TRUE(holds(&v, v.p_dst, 0xb2));
	vmm_teardown(&v);
	ASSERT_EQ(0, system("rmmod vfio_nest"));
	ASSERT_EQ(0, system("modprobe vfio_nest"));
}

TEST_HARNESS_MAIN
