// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma: test driver for QEMU's edu device (1234:11e8) that moves data
 * through the DMA API, so through the IOMMU domain of the device.
 *
 * /sys/kernel/debug/edu_dma/
 *   roundtrip  write "COUNT SIZE": COUNT times, DMA SIZE bytes of a fresh
 *              pattern RAM -> edu -> RAM (each buffer mapped with
 *              dma_map_single for that transfer only) and compare.
 *              The write fails with EIO on a mismatch, ETIMEDOUT if edu
 *              never completes.
 *   stale      write "small", "wide" or "big": map a buffer (4 KiB; 64 KiB,
 *              whose last page is probed; or 2 MiB of 4 KiB pages filling
 *              a page table), DMA from it (the IOMMU may cache the
 *              translation), unmap it, DMA from the same IOVA again.
 *              result says whether the old data still came through.
 *   fault      write an IOVA: DMA from it into edu (expected to fault).
 *   own_fault  write an IOVA: attach edu to an unmanaged domain of its own
 *              with a fault handler (iommu_set_fault_handler), check that
 *              a mapped page still goes through, DMA from the unmapped
 *              IOVA, wait for the IOMMU driver to call the handler, return
 *              edu to its DMA domain. result: "own_fault mapped=ok
 *              reported=N iova=X flags=F" (N reports, the first one's iova
 *              and IOMMU_FAULT_* flags).
 *   lazy_stale write anything: in a lazy (DMA-FQ) domain, DMA from a
 *              buffer (the IOMMU may cache the translation), unmap it, let
 *              the flush queue run (its timer flushes the IOTLB, then frees
 *              the IOVA), map a new buffer on every CPU until one gets the
 *              old IOVA back, and DMA through it. result: "lazy_stale
 *              reused=0|1 stale=0|1 iova=X" (stale: the old buffer's data
 *              came through the reused IOVA).
 *   hold_domain write 1: allocate an unmanaged domain for edu with one page
 *              mapped, and keep it, not attached, even after edu_dma is
 *              unbound from edu (the IOMMU core warns about endpoints with
 *              drivers when their IOMMU goes away); write 0 to it, or to
 *              /sys/kernel/debug/edu_dma_held once edu_dma is unbound: free
 *              it. (A domain alive across the removal of the IOMMU itself.)
 *   map_info   read: map one page with a 64-bit mask, print its DMA address
 *              and physical address, unmap.
 *   map_phys   write a guest-physical address: attach edu to an unmanaged
 *              domain of its own, map one page at that address (no DMA),
 *              unmap, return edu to its DMA domain. result: "map_phys
 *              err=E phys=X" (E: iommu_map's error, 0 if it mapped).
 *   result     read: the outcome of the last write, "key=value ...".
 *
 * edu takes dma-delay-ms (virtual time, 100 in a stock QEMU, 1 in the
 * harness's patched one) per transfer and addresses 28 bits.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "compat.h"

#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_RUN		BIT(0)
#define EDU_DMA_CMD_TO_RAM	BIT(1)	/* edu buffer -> RAM */
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
#define EDU_DMA_BITS		28
#define EDU_DMA_TIMEOUT_MS	5000
/* Where own_fault maps its page: inside edu's reach, clear of IOVA 0 */
#define EDU_OWN_IOVA		SZ_1M

struct edu_dma {
	struct pci_dev	*pdev;
	void __iomem	*regs;
	struct dentry	*debugfs;
	struct mutex	lock;		/* one transfer at a time, and result */
	bool		can_dma;	/* false: edu cannot reach its buffers */
	char		result[256];

	/* own_fault: what the fault handler saw */
	struct completion	fault_seen;
	atomic_t		nr_faults;
	unsigned long		fault_iova;
	int			fault_flags;
};

/* Only one edu is expected; debugfs names are not per device. */
static struct edu_dma *edu_dev;

/* hold_domain: the domain and its page, beyond edu_dma's binding */
static DEFINE_MUTEX(edu_held_lock);
static struct iommu_domain *edu_held;
static void *edu_held_page;
static struct dentry *edu_held_file;

static int edu_transfer(struct edu_dma *edu, dma_addr_t ram, size_t len,
			bool to_ram)
{
	unsigned long timeout = jiffies + msecs_to_jiffies(EDU_DMA_TIMEOUT_MS);

	writeq(to_ram ? EDU_BUF_ADDR : ram, edu->regs + EDU_REG_DMA_SRC);
	writeq(to_ram ? ram : EDU_BUF_ADDR, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writeq(EDU_DMA_CMD_RUN | (to_ram ? EDU_DMA_CMD_TO_RAM : 0),
	       edu->regs + EDU_REG_DMA_CMD);

	while (readq(edu->regs + EDU_REG_DMA_CMD) & EDU_DMA_CMD_RUN) {
		if (time_after(jiffies, timeout))
			return -ETIMEDOUT;
		usleep_range(1000, 2000);
	}
	return 0;
}

/* Map @buf for one transfer, run it, unmap. */
static int edu_dma_buf(struct edu_dma *edu, void *buf, size_t len, bool to_ram,
		       dma_addr_t *iova)
{
	enum dma_data_direction dir = to_ram ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	struct device *dev = &edu->pdev->dev;
	dma_addr_t addr;
	int ret;

	addr = dma_map_single(dev, buf, len, dir);
	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	ret = edu_transfer(edu, addr, len, to_ram);
	dma_unmap_single(dev, addr, len, dir);
	if (iova)
		*iova = addr;
	return ret;
}

static void edu_fill(u8 *buf, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(seed * 31 + i * 7 + (i >> 8));
}

static int edu_roundtrip(struct edu_dma *edu, unsigned int count, size_t len)
{
	dma_addr_t iova_out = 0, iova_in = 0;
	u8 *out, *in;
	unsigned int i;
	int ret = 0;

	out = kmalloc(len, GFP_KERNEL);
	in = kmalloc(len, GFP_KERNEL);
	if (!out || !in) {
		ret = -ENOMEM;
		goto out_free;
	}

	for (i = 0; i < count; i++) {
		edu_fill(out, len, i + 1);
		memset(in, 0, len);
		ret = edu_dma_buf(edu, out, len, false, &iova_out);
		if (ret)
			break;
		ret = edu_dma_buf(edu, in, len, true, &iova_in);
		if (ret)
			break;
		if (memcmp(out, in, len)) {
			ret = -EIO;
			break;
		}
	}
	snprintf(edu->result, sizeof(edu->result),
		 "roundtrip ok=%u of=%u size=%zu iova_out=%#llx iova_in=%#llx phys_out=%#llx err=%d\n",
		 i, count, len, (u64)iova_out, (u64)iova_in,
		 (u64)virt_to_phys(out), ret);
out_free:
	kfree(out);
	kfree(in);
	return ret;
}

static dma_addr_t edu_map(struct edu_dma *edu, void *buf, bool to_ram)
{
	return dma_map_single(&edu->pdev->dev, buf, EDU_BUF_SIZE,
			      to_ram ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

static void edu_unmap(struct edu_dma *edu, dma_addr_t iova, bool to_ram)
{
	dma_unmap_single(&edu->pdev->dev, iova, EDU_BUF_SIZE,
			 to_ram ? DMA_FROM_DEVICE : DMA_TO_DEVICE);
}

/*
 * Every buffer is mapped up front and the unmap under test is the first one:
 * a test knob that drops "the next invalidation" then drops exactly that
 * one, and no new mapping can reuse the IOVA while it may still be live.
 *
 * @map_len SZ_64K: 16 pages, the transfers use the last one, so an
 * invalidation that covers less than the whole unmapped range shows.
 * @map_len SZ_2M: the buffer under test is 2 MiB at a 4 KiB offset in a 4 MiB
 * block, so the IOMMU maps it with 512 pages (one whole last-level table) and
 * its unmap frees that table: the walk-cache invalidation is what is tested.
 * The transfers use 4 KiB in its middle.
 */
static int edu_stale(struct edu_dma *edu, size_t map_len)
{
	bool big = map_len == SZ_2M;
	size_t probe = big ? SZ_1M : map_len - EDU_BUF_SIZE;
	struct device *dev = &edu->pdev->dev;
	dma_addr_t iova_old, iova_scrub, iova_back;
	struct page *block = NULL;
	u8 *old, *scrub, *back;
	int stale, ret = -ENOMEM;

	if (big) {
		block = alloc_pages(GFP_KERNEL | __GFP_NOWARN,
				    get_order(SZ_4M));
		old = block ? page_address(block) + PAGE_SIZE : NULL;
	} else {
		old = kmalloc(map_len, GFP_KERNEL);
	}
	scrub = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	back = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	if (!old || !scrub || !back)
		goto out_free;
	memset(old, 0xa5, map_len);

	iova_scrub = edu_map(edu, scrub, false);
	if (dma_mapping_error(dev, iova_scrub))
		goto out_free;
	iova_back = edu_map(edu, back, true);
	if (dma_mapping_error(dev, iova_back))
		goto out_unmap_scrub;
	iova_old = dma_map_single(dev, old, map_len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, iova_old))
		goto out_unmap_back;

	/* Through the translation, which the IOMMU may now cache */
	ret = edu_transfer(edu, iova_old + probe, EDU_BUF_SIZE, false);
	if (!ret)
		ret = edu_transfer(edu, iova_scrub, EDU_BUF_SIZE, false);
	dma_unmap_single(dev, iova_old, map_len, DMA_TO_DEVICE);
	/* Use after unmap: only a stale translation lets the 0xa5 through */
	if (!ret)
		ret = edu_transfer(edu, iova_old + probe, EDU_BUF_SIZE, false);
	if (!ret)
		ret = edu_transfer(edu, iova_back, EDU_BUF_SIZE, true);

out_unmap_back:
	edu_unmap(edu, iova_back, true);
out_unmap_scrub:
	edu_unmap(edu, iova_scrub, false);
	if (!ret) {
		stale = !memcmp(old + probe, back, EDU_BUF_SIZE);
		snprintf(edu->result, sizeof(edu->result),
			 "stale=%d iova=%#llx len=%#zx first=%#x\n", stale,
			 (u64)iova_old, map_len, back[0]);
	}
out_free:
	if (big) {
		if (block)
			__free_pages(block, get_order(SZ_4M));
	} else {
		kfree(old);
	}
	kfree(scrub);
	kfree(back);
	return ret;
}

static int edu_fault(struct edu_dma *edu, u64 iova)
{
	u8 *scrub, *back;
	int ret = -ENOMEM;

	scrub = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	back = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	if (!scrub || !back)
		goto out_free;
	memset(scrub, 0x3c, EDU_BUF_SIZE);

	ret = edu_dma_buf(edu, scrub, EDU_BUF_SIZE, false, NULL);
	if (!ret)
		ret = edu_transfer(edu, iova, EDU_BUF_SIZE, false);
	if (!ret)
		ret = edu_dma_buf(edu, back, EDU_BUF_SIZE, true, NULL);
	if (!ret)
		snprintf(edu->result, sizeof(edu->result),
			 "fault iova=%#llx first=%#x\n", iova, back[0]);
out_free:
	kfree(scrub);
	kfree(back);
	return ret;
}

/*
 * A driver that owns an unmanaged domain hears of its device's faults through
 * the handler it set; the IOMMU driver calls it from its fault path, possibly
 * in interrupt context.
 */
static int edu_fault_handler(struct iommu_domain *domain, struct device *dev,
			     unsigned long iova, int flags, void *token)
{
	struct edu_dma *edu = token;

	if (atomic_inc_return(&edu->nr_faults) == 1) {
		edu->fault_iova = iova;
		edu->fault_flags = flags;
		complete(&edu->fault_seen);
	}
	return 0;
}

static int edu_own_fault(struct edu_dma *edu, u64 iova)
{
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain;
	u8 *page;
	int ret;

	/* A whole page: the smallest thing an IOMMU maps with 64K pages */
	page = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	memset(page, 0x5a, EDU_BUF_SIZE);

	domain = edu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto out_page;
	}
	reinit_completion(&edu->fault_seen);
	atomic_set(&edu->nr_faults, 0);
	iommu_set_fault_handler(domain, edu_fault_handler, edu);

	ret = iommu_attach_device(domain, dev);
	if (ret)
		goto out_domain;
	ret = edu_iommu_map(domain, EDU_OWN_IOVA, virt_to_phys(page),
			    PAGE_SIZE, IOMMU_READ);
	if (ret)
		goto out_detach;

	/* The domain translates: a read through the mapped page is silent */
	ret = edu_transfer(edu, EDU_OWN_IOVA, EDU_BUF_SIZE, false);
	if (ret)
		goto out_unmap;
	if (atomic_read(&edu->nr_faults)) {
		ret = -EIO;
		goto out_unmap;
	}

	ret = edu_transfer(edu, iova, EDU_BUF_SIZE, false);
	if (ret)
		goto out_unmap;
	wait_for_completion_timeout(&edu->fault_seen,
				    msecs_to_jiffies(EDU_DMA_TIMEOUT_MS));
	snprintf(edu->result, sizeof(edu->result),
		 "own_fault mapped=ok reported=%d iova=%#lx flags=%#x\n",
		 atomic_read(&edu->nr_faults), edu->fault_iova,
		 edu->fault_flags);

out_unmap:
	iommu_unmap(domain, EDU_OWN_IOVA, PAGE_SIZE);
out_detach:
	/* Back to the DMA domain; the handler cannot be called after this */
	iommu_detach_device(domain, dev);
out_domain:
	iommu_domain_free(domain);
out_page:
	kfree(page);
	return ret;
}

/* lazy_stale: map a buffer on a given CPU (the IOVA caches are per CPU) */
struct edu_map_on {
	struct edu_dma	*edu;
	void		*buf;
	dma_addr_t	iova;
};

static long edu_map_on_fn(void *arg)
{
	struct edu_map_on *m = arg;

	m->iova = edu_map(m->edu, m->buf, false);
	return 0;
}

#define EDU_LAZY_TRIES	8

/*
 * Map @buf, on each CPU in turn, until it gets @iova; the mappings that did
 * not are kept in @extra (unmapped by the caller). Returns the slot of the
 * reused IOVA in @extra, or -1.
 */
static int edu_map_reuse(struct edu_dma *edu, void *buf, dma_addr_t iova,
			 dma_addr_t *extra)
{
	struct device *dev = &edu->pdev->dev;
	struct edu_map_on m = { .edu = edu, .buf = buf };
	unsigned int cpu, n = 0;

	for_each_online_cpu(cpu) {
		if (n == EDU_LAZY_TRIES)
			break;
		work_on_cpu(cpu, edu_map_on_fn, &m);
		if (dma_mapping_error(dev, m.iova))
			continue;
		extra[n] = m.iova;
		if (m.iova == iova)
			return n;
		n++;
	}
	return -1;
}

static int edu_lazy_stale(struct edu_dma *edu)
{
	struct device *dev = &edu->pdev->dev;
	dma_addr_t iova_old, iova_back, extra[EDU_LAZY_TRIES];
	u8 *old, *fresh, *back;
	int i, hit, ret = -ENOMEM;

	for (i = 0; i < EDU_LAZY_TRIES; i++)
		extra[i] = DMA_MAPPING_ERROR;
	old = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
	fresh = kmalloc(EDU_BUF_SIZE, GFP_KERNEL);
	back = kzalloc(EDU_BUF_SIZE, GFP_KERNEL);
	if (!old || !fresh || !back)
		goto out_free;
	memset(old, 0xa5, EDU_BUF_SIZE);
	memset(fresh, 0x5a, EDU_BUF_SIZE);

	iova_back = edu_map(edu, back, true);
	if (dma_mapping_error(dev, iova_back))
		goto out_free;
	iova_old = edu_map(edu, old, false);
	if (dma_mapping_error(dev, iova_old))
		goto out_unmap_back;
	ret = edu_transfer(edu, iova_old, EDU_BUF_SIZE, false);
	edu_unmap(edu, iova_old, false);
	if (ret)
		goto out_unmap_back;
	/* The flush queue's timer (10 ms) flushes, then frees the IOVA */
	msleep(100);

	hit = edu_map_reuse(edu, fresh, iova_old, extra);
	if (hit >= 0) {
		ret = edu_transfer(edu, iova_old, EDU_BUF_SIZE, false);
		if (!ret)
			ret = edu_transfer(edu, iova_back, EDU_BUF_SIZE, true);
	}
	for (i = 0; i < EDU_LAZY_TRIES; i++)
		if (!dma_mapping_error(dev, extra[i]))
			edu_unmap(edu, extra[i], false);
	if (!ret)
		snprintf(edu->result, sizeof(edu->result),
			 "lazy_stale reused=%d stale=%d iova=%#llx first=%#x\n",
			 hit >= 0, hit >= 0 && back[0] == 0xa5, (u64)iova_old,
			 back[0]);
out_unmap_back:
	edu_unmap(edu, iova_back, true);
out_free:
	kfree(old);
	kfree(fresh);
	kfree(back);
	return ret;
}

static void edu_release_held(void)
{
	mutex_lock(&edu_held_lock);
	if (edu_held) {
		iommu_unmap(edu_held, EDU_OWN_IOVA, PAGE_SIZE);
		iommu_domain_free(edu_held);
		kfree(edu_held_page);
		edu_held = NULL;
		edu_held_page = NULL;
	}
	mutex_unlock(&edu_held_lock);
}

static int edu_hold_domain_locked(struct edu_dma *edu)
{
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain;
	int ret;

	if (edu_held)
		return -EBUSY;
	edu_held_page = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!edu_held_page)
		return -ENOMEM;
	domain = edu_paging_domain_alloc(dev);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto err_page;
	}
	ret = edu_iommu_map(domain, EDU_OWN_IOVA, virt_to_phys(edu_held_page),
			    PAGE_SIZE, IOMMU_READ);
	if (ret)
		goto err_domain;
	edu_held = domain;
	snprintf(edu->result, sizeof(edu->result), "hold_domain held=1\n");
	return 0;

err_domain:
	iommu_domain_free(domain);
err_page:
	kfree(edu_held_page);
	edu_held_page = NULL;
	return ret;
}

static int edu_hold_domain(struct edu_dma *edu)
{
	int ret;

	mutex_lock(&edu_held_lock);
	ret = edu_hold_domain_locked(edu);
	mutex_unlock(&edu_held_lock);
	return ret;
}

static ssize_t edu_lazy_stale_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	int ret;

	if (!edu->can_dma)
		return -ENXIO;
	mutex_lock(&edu->lock);
	ret = edu_lazy_stale(edu);
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static ssize_t edu_hold_domain_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	bool hold;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &hold);
	if (ret)
		return ret;
	mutex_lock(&edu->lock);
	if (hold)
		ret = edu_hold_domain(edu);
	else
		edu_release_held();
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static ssize_t edu_roundtrip_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	unsigned int count, size;
	char buf[32] = {};
	int ret;

	if (len >= sizeof(buf) || copy_from_user(buf, ubuf, len))
		return -EINVAL;
	if (sscanf(buf, "%u %u", &count, &size) != 2 || !count ||
	    count > 1000 || !size || size > EDU_BUF_SIZE)
		return -EINVAL;

	if (!edu->can_dma)
		return -ENXIO;

	mutex_lock(&edu->lock);
	ret = edu_roundtrip(edu, count, size);
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static ssize_t edu_stale_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	char buf[8] = {};
	int ret;

	if (!edu->can_dma)
		return -ENXIO;
	if (len >= sizeof(buf) || copy_from_user(buf, ubuf, len))
		return -EINVAL;

	mutex_lock(&edu->lock);
	ret = edu_stale(edu, sysfs_streq(buf, "big") ? SZ_2M :
			     sysfs_streq(buf, "wide") ? SZ_64K : EDU_BUF_SIZE);
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static int edu_map_phys(struct edu_dma *edu, u64 phys)
{
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain;
	int ret, err;

	domain = edu_paging_domain_alloc(dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	ret = iommu_attach_device(domain, dev);
	if (ret)
		goto out_domain;
	err = edu_iommu_map(domain, EDU_OWN_IOVA, phys, PAGE_SIZE,
			    IOMMU_READ | IOMMU_WRITE);
	if (!err)
		iommu_unmap(domain, EDU_OWN_IOVA, PAGE_SIZE);
	snprintf(edu->result, sizeof(edu->result), "map_phys err=%d phys=%#llx\n",
		 err, phys);
	iommu_detach_device(domain, dev);
out_domain:
	iommu_domain_free(domain);
	return ret;
}

static ssize_t edu_map_phys_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	u64 phys;
	int ret;

	ret = kstrtou64_from_user(ubuf, len, 0, &phys);
	if (ret)
		return ret;
	if (!IS_ALIGNED(phys, PAGE_SIZE))
		return -EINVAL;
	mutex_lock(&edu->lock);
	ret = edu_map_phys(edu, phys);
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static ssize_t edu_iova_write(struct file *file, const char __user *ubuf,
			      size_t len, int (*fn)(struct edu_dma *, u64))
{
	struct edu_dma *edu = file->private_data;
	u64 iova;
	int ret;

	ret = kstrtou64_from_user(ubuf, len, 0, &iova);
	if (ret)
		return ret;
	/* edu truncates to 28 bits; refuse rather than fault elsewhere */
	if (iova >> EDU_DMA_BITS || iova + EDU_BUF_SIZE > BIT(EDU_DMA_BITS))
		return -ERANGE;

	if (!edu->can_dma)
		return -ENXIO;

	mutex_lock(&edu->lock);
	ret = fn(edu, iova);
	mutex_unlock(&edu->lock);
	return ret ?: len;
}

static ssize_t edu_fault_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	return edu_iova_write(file, ubuf, len, edu_fault);
}

static ssize_t edu_own_fault_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	return edu_iova_write(file, ubuf, len, edu_own_fault);
}

static ssize_t edu_map_info_read(struct file *file, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	struct device *dev = &edu->pdev->dev;
	dma_addr_t addr;
	char out[96];
	void *page;
	int n;

	page = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!page)
		return -ENOMEM;

	mutex_lock(&edu->lock);
	/* Wide mask: with an identity domain the address must be the PA */
	dma_set_mask(dev, DMA_BIT_MASK(64));
	addr = dma_map_single(dev, page, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		n = -ENOMEM;
	} else {
		dma_unmap_single(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
		n = scnprintf(out, sizeof(out), "dma=%#llx phys=%#llx\n",
			      (u64)addr, (u64)virt_to_phys(page));
	}
	if (edu->can_dma)
		dma_set_mask(dev, DMA_BIT_MASK(EDU_DMA_BITS));
	mutex_unlock(&edu->lock);
	kfree(page);

	if (n < 0)
		return n;
	return simple_read_from_buffer(ubuf, len, ppos, out, n);
}

static ssize_t edu_result_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct edu_dma *edu = file->private_data;
	char out[sizeof(edu->result)];

	mutex_lock(&edu->lock);
	memcpy(out, edu->result, sizeof(out));
	mutex_unlock(&edu->lock);
	return simple_read_from_buffer(ubuf, len, ppos, out, strlen(out));
}

static const struct file_operations edu_roundtrip_fops = {
	.open = simple_open,
	.write = edu_roundtrip_write,
};

static const struct file_operations edu_stale_fops = {
	.open = simple_open,
	.write = edu_stale_write,
};

static const struct file_operations edu_fault_fops = {
	.open = simple_open,
	.write = edu_fault_write,
};

static const struct file_operations edu_own_fault_fops = {
	.open = simple_open,
	.write = edu_own_fault_write,
};

static const struct file_operations edu_lazy_stale_fops = {
	.open = simple_open,
	.write = edu_lazy_stale_write,
};

static const struct file_operations edu_hold_domain_fops = {
	.open = simple_open,
	.write = edu_hold_domain_write,
};

static const struct file_operations edu_map_phys_fops = {
	.open = simple_open,
	.write = edu_map_phys_write,
};

static const struct file_operations edu_map_info_fops = {
	.open = simple_open,
	.read = edu_map_info_read,
};

static const struct file_operations edu_result_fops = {
	.open = simple_open,
	.read = edu_result_read,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_dma *edu;
	int ret;

	if (edu_dev)
		return -EBUSY;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	mutex_init(&edu->lock);
	init_completion(&edu->fault_seen);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	edu->regs = edu_iomap_bar0(pdev);
	if (IS_ERR(edu->regs))
		return PTR_ERR(edu->regs);
	/*
	 * Without translation (identity domain) RAM lies above edu's 28 bits:
	 * the device stays usable for map_info only.
	 */
	edu->can_dma = !dma_set_mask_and_coherent(&pdev->dev,
						  DMA_BIT_MASK(EDU_DMA_BITS));
	if (!edu->can_dma) {
		ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
		if (ret)
			return ret;
		dev_info(&pdev->dev, "RAM beyond the 28-bit DMA range: no transfers\n");
	}
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);

	edu->debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("roundtrip", 0200, edu->debugfs, edu,
			    &edu_roundtrip_fops);
	debugfs_create_file("stale", 0200, edu->debugfs, edu, &edu_stale_fops);
	debugfs_create_file("fault", 0200, edu->debugfs, edu, &edu_fault_fops);
	debugfs_create_file("own_fault", 0200, edu->debugfs, edu,
			    &edu_own_fault_fops);
	debugfs_create_file("lazy_stale", 0200, edu->debugfs, edu,
			    &edu_lazy_stale_fops);
	debugfs_create_file("hold_domain", 0200, edu->debugfs, edu,
			    &edu_hold_domain_fops);
	debugfs_create_file("map_info", 0400, edu->debugfs, edu,
			    &edu_map_info_fops);
	debugfs_create_file("map_phys", 0200, edu->debugfs, edu,
			    &edu_map_phys_fops);
	debugfs_create_file("result", 0400, edu->debugfs, edu,
			    &edu_result_fops);
	edu_dev = edu;
	dev_info(&pdev->dev, "edu id %#x\n", readl(edu->regs + EDU_REG_ID));
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dma *edu = pci_get_drvdata(pdev);

	debugfs_remove_recursive(edu->debugfs);
	edu_dev = NULL;
	pci_clear_master(pdev);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
};

/* edu_dma_held: write 0 to free the held domain, with or without edu */
static ssize_t edu_held_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	bool hold;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &hold);
	if (ret)
		return ret;
	if (hold)
		return -EINVAL;
	edu_release_held();
	return len;
}

static const struct file_operations edu_held_fops = {
	.open = simple_open,
	.write = edu_held_write,
};

static int __init edu_init(void)
{
	edu_held_file = debugfs_create_file("edu_dma_held", 0200, NULL, NULL,
					    &edu_held_fops);
	return pci_register_driver(&edu_driver);
}
module_init(edu_init);

static void __exit edu_exit(void)
{
	pci_unregister_driver(&edu_driver);
	debugfs_remove(edu_held_file);
	edu_release_held();
}
module_exit(edu_exit);

MODULE_DESCRIPTION("edu DMA test driver (iommu-nest selftests)");
MODULE_LICENSE("GPL");
