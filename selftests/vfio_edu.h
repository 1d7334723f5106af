/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu PCI device (1234:11e8) as a DMA engine for tests,
 * driven from userspace through a VFIO device cdev bound to an iommufd.
 *
 * Header-only so that every test program and tool can include it without a
 * library build step. Every helper returns 0 or a negative errno (and leaves
 * errno set), so tests wrap them as ASSERT_EQ(0, vfio_edu_...()) and tools
 * print strerror(-ret).
 *
 * Typical use, as a VMM would:
 *
 *	struct vfio_edu edu;
 *
 *	vfio_edu_open(&edu);                        // sysfs bind, cdev, iommufd
 *	vfio_edu_ioas_map(&edu, edu.ioas_id, buf, len, iova);
 *	vfio_edu_attach(&edu, edu.ioas_id);         // or a HWPT id
 *	vfio_edu_dma_to_device(&edu, iova, 0, len);
 *	vfio_edu_dma_to_ram(&edu, 0, iova2, len);
 *	vfio_edu_close(&edu);
 *
 * The edu model (QEMU hw/misc/edu.c): BAR0 registers at 0x80 (DMA source),
 * 0x88 (destination), 0x90 (count), 0x98 (command: bit 0 start, bit 1
 * direction, 1 = device to RAM); a 4 KiB device buffer that DMA addresses at
 * 0x40000; a 28-bit DMA mask, so every IOVA used with edu must be below
 * 256 MiB; a DMA completes dma-delay-ms of virtual time after the start bit
 * is written (100 in a stock QEMU; the harness runs the patched one with 1),
 * and bit 0 reads 1 until then. A DMA that the IOMMU refuses
 * still completes from edu's point of view: the bytes are simply not
 * transferred, which is what fault tests look for.
 */
#ifndef _SELFTESTS_VFIO_EDU_H
#define _SELFTESTS_VFIO_EDU_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_CMD_START	(1u << 0)
#define EDU_DMA_CMD_TO_RAM	(1u << 1)	/* device buffer -> RAM */

#define EDU_DMA_BUF_ADDR	0x40000ull	/* device buffer, in edu's space */
#define EDU_DMA_BUF_SIZE	4096u
#define EDU_DMA_MASK		((1ull << 28) - 1)

/* Up to 100 ms of virtual time per DMA; TCG under load can be far slower. */
#define EDU_DMA_TIMEOUT_MS	5000

#define PCI_CFG_COMMAND		0x04
#define PCI_CMD_MEMORY		(1u << 1)
#define PCI_CMD_MASTER		(1u << 2)

/**
 * struct vfio_edu - one edu device opened through VFIO cdev + iommufd
 * @bdf: PCI address, e.g. "0000:00:01.0"
 * @iommufd: /dev/iommu file descriptor the device is bound to
 * @device_fd: /dev/vfio/devices/vfioN file descriptor
 * @dev_id: iommufd object id of the bound device
 * @ioas_id: an IOAS allocated by vfio_edu_open() (not attached yet)
 * @bar0: BAR0 mapping
 * @bar0_size: length of @bar0
 * @config_offset: file offset of the PCI config space region
 */
struct vfio_edu {
	char bdf[32];
	int iommufd;
	int device_fd;
	__u32 dev_id;
	__u32 ioas_id;
	volatile uint8_t *bar0;
	size_t bar0_size;
	__u64 config_offset;
};

static inline int vfio_edu_errno(void)
{
	return errno ? -errno : -EIO;
}

static inline int vfio_edu_read_sysfs(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return vfio_edu_errno();
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return vfio_edu_errno();
	buf[n] = '\0';
	return 0;
}

static inline int vfio_edu_write_sysfs(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return vfio_edu_errno();
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? vfio_edu_errno() : 0;
}

/* vfio_edu_find - the PCI address of the first edu device in sysfs. */
static inline int vfio_edu_find(char *bdf, size_t len)
{
	const char *base = "/sys/bus/pci/devices";
	char path[PATH_MAX], val[32];
	struct dirent *de;
	int ret = -ENODEV;
	DIR *dir;

	dir = opendir(base);
	if (!dir)
		return vfio_edu_errno();
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", base, de->d_name);
		if (vfio_edu_read_sysfs(path, val, sizeof(val)) ||
		    strtoul(val, NULL, 0) != EDU_VENDOR_ID)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device", base, de->d_name);
		if (vfio_edu_read_sysfs(path, val, sizeof(val)) ||
		    strtoul(val, NULL, 0) != EDU_DEVICE_ID)
			continue;
		if (strlen(de->d_name) >= len)
			continue;
		memcpy(bdf, de->d_name, strlen(de->d_name) + 1);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

/*
 * vfio_edu_cdev_path - bind @bdf to vfio-pci if needed and return the path
 * of its VFIO device cdev, waiting up to a second for udev-less devtmpfs.
 */
static inline int vfio_edu_cdev_path(const char *bdf, char *cdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int i, ret;
	DIR *dir;

	/* EEXIST: the ID is already known from an earlier run. */
	vfio_edu_write_sysfs("/sys/bus/pci/drivers/vfio-pci/new_id",
			     "1234 11e8");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	for (i = 0; i < 100; i++) {
		dir = opendir(path);
		if (dir) {
			ret = -ENODEV;
			while ((de = readdir(dir))) {
				if (strncmp(de->d_name, "vfio", 4))
					continue;
				snprintf(cdev, len, "/dev/vfio/devices/%s",
					 de->d_name);
				ret = access(cdev, R_OK | W_OK) ? -ENOENT : 0;
				break;
			}
			closedir(dir);
			if (!ret)
				return 0;
		}
		usleep(10000);
	}
	return -ENODEV;
}

static inline int vfio_edu_bind(struct vfio_edu *edu)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = edu->iommufd,
	};

	if (ioctl(edu->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return vfio_edu_errno();
	edu->dev_id = bind.out_devid;
	return 0;
}

static inline int vfio_edu_ioas_alloc(int iommufd, __u32 *ioas_id)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return vfio_edu_errno();
	*ioas_id = alloc.out_ioas_id;
	return 0;
}

/* vfio_edu_ioas_map - map @len bytes at @buf to @iova, read and write. */
static inline int vfio_edu_ioas_map(struct vfio_edu *edu, __u32 ioas_id,
				    void *buf, size_t len, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	if (ioctl(edu->iommufd, IOMMU_IOAS_MAP, &map))
		return vfio_edu_errno();
	return 0;
}

static inline int vfio_edu_ioas_unmap(struct vfio_edu *edu, __u32 ioas_id,
				      __u64 iova, size_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(edu->iommufd, IOMMU_IOAS_UNMAP, &unmap))
		return vfio_edu_errno();
	return 0;
}

/* vfio_edu_hwpt_alloc - a paging HWPT on @pt_id (IOMMU_HWPT_ALLOC_* @flags). */
static inline int vfio_edu_hwpt_alloc(struct vfio_edu *edu, __u32 pt_id,
				      __u32 flags, __u32 *hwpt_id)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = flags,
		.dev_id = edu->dev_id,
		.pt_id = pt_id,
	};

	if (ioctl(edu->iommufd, IOMMU_HWPT_ALLOC, &alloc))
		return vfio_edu_errno();
	*hwpt_id = alloc.out_hwpt_id;
	return 0;
}

static inline int vfio_edu_destroy(struct vfio_edu *edu, __u32 id)
{
	struct iommu_destroy destroy = { .size = sizeof(destroy), .id = id };

	if (ioctl(edu->iommufd, IOMMU_DESTROY, &destroy))
		return vfio_edu_errno();
	return 0;
}

/* vfio_edu_attach - attach the device to an IOAS or HWPT (replaces). */
static inline int vfio_edu_attach(struct vfio_edu *edu, __u32 pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};

	if (ioctl(edu->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return vfio_edu_errno();
	return 0;
}

static inline int vfio_edu_detach(struct vfio_edu *edu)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	if (ioctl(edu->device_fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach))
		return vfio_edu_errno();
	return 0;
}

static inline int vfio_edu_region_info(struct vfio_edu *edu, __u32 index,
				       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(edu->device_fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return vfio_edu_errno();
	return 0;
}

static inline int vfio_edu_map_bar0(struct vfio_edu *edu)
{
	struct vfio_region_info info;
	void *bar;
	int ret;

	ret = vfio_edu_region_info(edu, VFIO_PCI_BAR0_REGION_INDEX, &info);
	if (ret)
		return ret;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP) || !info.size)
		return -ENXIO;
	bar = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   edu->device_fd, info.offset);
	if (bar == MAP_FAILED)
		return vfio_edu_errno();
	edu->bar0 = bar;
	edu->bar0_size = info.size;
	return 0;
}

/* Memory decoding for BAR0, bus mastering for DMA. */
static inline int vfio_edu_enable(struct vfio_edu *edu)
{
	struct vfio_region_info info;
	uint16_t cmd;
	int ret;

	ret = vfio_edu_region_info(edu, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	edu->config_offset = info.offset;
	if (pread(edu->device_fd, &cmd, sizeof(cmd),
		  info.offset + PCI_CFG_COMMAND) != sizeof(cmd))
		return vfio_edu_errno();
	cmd |= PCI_CMD_MEMORY | PCI_CMD_MASTER;
	if (pwrite(edu->device_fd, &cmd, sizeof(cmd),
		   info.offset + PCI_CFG_COMMAND) != sizeof(cmd))
		return vfio_edu_errno();
	return 0;
}

static inline uint32_t vfio_edu_read32(struct vfio_edu *edu, size_t reg)
{
	return *(volatile uint32_t *)(edu->bar0 + reg);
}

static inline void vfio_edu_write64(struct vfio_edu *edu, size_t reg,
				    uint64_t val)
{
	*(volatile uint64_t *)(edu->bar0 + reg) = val;
}

static inline uint64_t vfio_edu_read64(struct vfio_edu *edu, size_t reg)
{
	return *(volatile uint64_t *)(edu->bar0 + reg);
}

static inline uint64_t vfio_edu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* vfio_edu_dma_wait - poll the start bit until edu clears it. */
static inline int vfio_edu_dma_wait(struct vfio_edu *edu, unsigned int ms)
{
	uint64_t deadline = vfio_edu_now_ms() + ms;

	while (vfio_edu_read64(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) {
		if (vfio_edu_now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

/*
 * vfio_edu_dma - one edu DMA of @len bytes between @iova and offset
 * @dev_off of the device buffer; @to_ram picks the direction. Returns once
 * edu reports completion, which says nothing about whether the IOMMU let
 * the bytes through: callers check memory.
 */
static inline int vfio_edu_dma(struct vfio_edu *edu, __u64 iova,
			       __u32 dev_off, __u32 len, bool to_ram)
{
	__u64 dev = EDU_DMA_BUF_ADDR + dev_off;
	int ret;

	if (!len || dev_off > EDU_DMA_BUF_SIZE ||
	    len > EDU_DMA_BUF_SIZE - dev_off ||
	    iova > EDU_DMA_MASK || len - 1 > EDU_DMA_MASK - iova)
		return -EINVAL;
	/* edu ignores register writes while a DMA runs. */
	ret = vfio_edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
	if (ret)
		return ret;
	vfio_edu_write64(edu, EDU_REG_DMA_SRC, to_ram ? dev : iova);
	vfio_edu_write64(edu, EDU_REG_DMA_DST, to_ram ? iova : dev);
	vfio_edu_write64(edu, EDU_REG_DMA_COUNT, len);
	/* Buffers and page tables written by the CPU before edu reads them. */
	__sync_synchronize();
	vfio_edu_write64(edu, EDU_REG_DMA_CMD,
			 EDU_DMA_CMD_START | (to_ram ? EDU_DMA_CMD_TO_RAM : 0));
	ret = vfio_edu_dma_wait(edu, EDU_DMA_TIMEOUT_MS);
	__sync_synchronize();
	return ret;
}

static inline int vfio_edu_dma_to_device(struct vfio_edu *edu, __u64 iova,
					 __u32 dev_off, __u32 len)
{
	return vfio_edu_dma(edu, iova, dev_off, len, false);
}

static inline int vfio_edu_dma_to_ram(struct vfio_edu *edu, __u32 dev_off,
				      __u64 iova, __u32 len)
{
	return vfio_edu_dma(edu, iova, dev_off, len, true);
}

static inline void vfio_edu_close(struct vfio_edu *edu)
{
	if (edu->bar0)
		munmap((void *)edu->bar0, edu->bar0_size);
	if (edu->device_fd >= 0)
		close(edu->device_fd);
	if (edu->iommufd >= 0)
		close(edu->iommufd);
	memset(edu, 0, sizeof(*edu));
	edu->device_fd = -1;
	edu->iommufd = -1;
}

/*
 * vfio_edu_open - find edu, bind it to vfio-pci, open its cdev and a fresh
 * iommufd, bind them, allocate an IOAS (not attached: the caller picks the
 * page table), map BAR0 and enable memory decoding and bus mastering.
 */
static inline int vfio_edu_open(struct vfio_edu *edu)
{
	char cdev[PATH_MAX];
	int ret;

	memset(edu, 0, sizeof(*edu));
	edu->device_fd = -1;
	edu->iommufd = -1;
	ret = vfio_edu_find(edu->bdf, sizeof(edu->bdf));
	if (ret)
		return ret;
	ret = vfio_edu_cdev_path(edu->bdf, cdev, sizeof(cdev));
	if (ret)
		return ret;
	edu->device_fd = open(cdev, O_RDWR);
	if (edu->device_fd < 0)
		goto err;
	edu->iommufd = open("/dev/iommu", O_RDWR);
	if (edu->iommufd < 0)
		goto err;
	ret = vfio_edu_bind(edu);
	if (ret)
		goto err_ret;
	ret = vfio_edu_ioas_alloc(edu->iommufd, &edu->ioas_id);
	if (ret)
		goto err_ret;
	ret = vfio_edu_map_bar0(edu);
	if (ret)
		goto err_ret;
	ret = vfio_edu_enable(edu);
	if (ret)
		goto err_ret;
	return 0;
err:
	ret = vfio_edu_errno();
err_ret:
	vfio_edu_close(edu);
	return ret;
}

#endif /* _SELFTESTS_VFIO_EDU_H */
