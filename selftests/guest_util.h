/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the guest tests: the guest module's debugfs (statistics, test
 * knob), the edu_dma test driver's debugfs, and PCI lookups in sysfs.
 */
#ifndef IOMMU_NEST_GUEST_UTIL_H
#define IOMMU_NEST_GUEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>

#include "test_util.h"

#define VIOMMU_DEBUGFS	"/sys/kernel/debug/virtio_iommu_pgt"
#define EDU_DEBUGFS	"/sys/kernel/debug/edu_dma"

#define VIRTIO_IOMMU_F_BYPASS_CONFIG	6

/*
 * The test disk of scripts/profiles.sh: block n of 4 KiB starts with n as a
 * little-endian u32 and continues with (i * 7 + 3) & 0xff.
 */
#define DISK_BLK	4096
#define DISK_NBLK	4096	/* 16 MiB */

/* What block @n of the test disk holds, into @buf (DISK_BLK bytes). */
static inline void disk_block(uint8_t *buf, uint32_t n)
{
	int i;

	for (i = 0; i < DISK_BLK; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	memcpy(buf, &n, 4);	/* arm64 is little-endian */
}

/*
 * Open /dev/vda with @flags: the disk appears in sysfs a little before it
 * can be opened, so ENXIO and ENOENT are retried for up to 10 s. An fd, or
 * -1 with errno set.
 */
static inline int disk_open(int flags)
{
	int fd = -1, i;

	for (i = 0; i < 200; i++) {
		fd = open("/dev/vda", flags);
		if (fd >= 0 || (errno != ENXIO && errno != ENOENT))
			break;
		usleep(50000);
	}
	return fd;
}

/* Load both modules; 0 on success. */
static inline int guest_modules_load(void)
{
	if (run_cmd("modprobe virtio_iommu_pgt"))
		return -1;
	if (run_cmd("modprobe edu_dma"))
		return -1;
	return 0;
}

/* The virtio device name of the (first) guest IOMMU, e.g. "virtio0". */
static inline int viommu_name(char *name, size_t len)
{
	return sysfs_find(VIOMMU_DEBUGFS, NULL, 0, NULL, 0, name, len);
}

/*
 * The value of the "key: value" line of the guest module's stats file, into
 * val (without the newline); -1 if the file or the key is absent.
 */
static inline int viommu_stats_value(const char *key, char *val, size_t len)
{
	char name[64], path[256], line[256];
	size_t klen = strlen(key);
	int ret = -1;
	FILE *f;

	if (viommu_name(name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), VIOMMU_DEBUGFS "/%s/stats", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			line[strcspn(line, "\n")] = 0;
			copy_name(val, len, line + klen + 1);
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* Whether the guest IOMMU negotiated feature @bit; -1 if unknown. */
static inline int viommu_has_feature(unsigned int bit)
{
	char name[64], path[256], feat[128];

	if (viommu_name(name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/features",
		 name);
	if (read_line(path, feat, sizeof(feat)))
		return -1;
	return strlen(feat) > bit && feat[bit] == '1';
}

/* A numeric stats value; -1 if absent. */
static inline long long viommu_stat(const char *key)
{
	char val[128];

	if (viommu_stats_value(key, val, sizeof(val)))
		return -1;
	return strtoll(val, NULL, 0);
}

/* The stats line "mode: table|classic" */
static inline int viommu_mode(char *mode, size_t len)
{
	char val[128];

	if (len <= 31 || viommu_stats_value("mode", val, sizeof(val)))
		return -1;
	return sscanf(val, "%31s", mode) == 1 ? 0 : -1;
}

/* Address of the last fault the guest module saw, or -1. */
static inline long long viommu_last_fault_addr(void)
{
	unsigned long long addr;
	unsigned int ep, reason;
	char val[128];

	if (viommu_stats_value("last_fault", val, sizeof(val)))
		return -1;
	if (sscanf(val, " endpoint %u reason %u address %llx", &ep, &reason,
		   &addr) != 3)
		return -1;
	return (long long)addr;
}

static inline int viommu_set_skip(unsigned int n)
{
	char name[64], path[256], val[16];

	if (viommu_name(name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), VIOMMU_DEBUGFS "/%s/skip_invalidations",
		 name);
	snprintf(val, sizeof(val), "%u", n);
	return write_str(path, val);
}

/* Write a number to one of the guest module's debugfs knobs */
static inline int viommu_knob(const char *knob, unsigned int n)
{
	char name[64], path[256], val[16];

	if (viommu_name(name, sizeof(name)))
		return -1;
	snprintf(path, sizeof(path), VIOMMU_DEBUGFS "/%s/%s", name, knob);
	snprintf(val, sizeof(val), "%u", n);
	return write_str(path, val);
}

/*
 * Whether the guest module was built with its test knobs (VIOMMU_PGT_TEST=1,
 * the harness's build; a dkms build has none). Tests that need one skip
 * without.
 */
static inline bool viommu_has_knobs(void)
{
	char name[64], path[256];

	if (viommu_name(name, sizeof(name)))
		return false;
	snprintf(path, sizeof(path), VIOMMU_DEBUGFS "/%s/fail_inval_alloc", name);
	return path_exists(path);
}

#define VIOMMU_PARAMS	"/sys/module/virtio_iommu_pgt/parameters"

#define SYSLOG_ACTION_READ_ALL		3
#define SYSLOG_ACTION_SIZE_BUFFER	10

/* The whole kernel log buffer, NUL-terminated, to free(); NULL if unreadable */
static inline char *klog_read(void)
{
	int size = klogctl(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0);
	char *buf;
	int n;

	if (size <= 0)
		return NULL;
	buf = malloc(size + 1);
	if (!buf)
		return NULL;
	n = klogctl(SYSLOG_ACTION_READ_ALL, buf, size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* How many times the kernel log buffer holds @text; -1 if unreadable */
static inline int klog_count(const char *text)
{
	char *buf = klog_read(), *p;
	int found = 0;

	if (!buf)
		return -1;
	for (p = strstr(buf, text); p; p = strstr(p + 1, text))
		found++;
	free(buf);
	return found;
}

/*
 * The rest of the last kernel log line that holds @text, after it, into
 * @out; -1 if no line does (or the log cannot be read).
 */
static inline int klog_after(const char *text, char *out, size_t len)
{
	char *buf = klog_read(), *p, *last = NULL;

	if (!buf)
		return -1;
	for (p = strstr(buf, text); p; p = strstr(p + 1, text))
		last = p + strlen(text);
	if (last)
		snprintf(out, len, "%.*s", (int)strcspn(last, "\n"), last);
	free(buf);
	return last ? 0 : -1;
}

/* Whether the kernel log buffer holds @text; -1 if it cannot be read */
static inline int klog_contains(const char *text)
{
	int n = klog_count(text);

	return n < 0 ? -1 : n > 0;
}

/* Write to an edu_dma debugfs file; 0 or -errno of the write. */
static inline int edu_cmd(const char *file, const char *cmd)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), EDU_DEBUGFS "/%s", file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

static inline int edu_read(const char *file, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), EDU_DEBUGFS "/%s", file);
	return read_line(path, buf, len);
}

/* Value of "key=..." in an edu_dma result line, as unsigned long long */
static inline int kv_get(const char *line, const char *key,
			 unsigned long long *val)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(line, pat);
	if (!p)
		return -1;
	*val = strtoull(p + strlen(pat), NULL, 0);
	return 0;
}

/*
 * Whether an edu_dma roundtrip result says COUNT transfers matched through a
 * translated address: an IOVA below edu's 28-bit limit that is not the RAM
 * address. 0 if so.
 */
static inline int edu_roundtrip_translated(const char *res,
					   unsigned long long count)
{
	unsigned long long ok, iova, phys;

	if (kv_get(res, "ok", &ok) || kv_get(res, "iova_out", &iova) ||
	    kv_get(res, "phys_out", &phys))
		return -1;
	return ok == count && iova < (1ULL << 28) && iova != phys ? 0 : -1;
}

/* sysfs directory name (domain:bus:dev.fn) of the first PCI vendor:device */
static inline int pci_find(unsigned int vendor, unsigned int device,
			   char *bdf, size_t len)
{
	return sysfs_find("/sys/bus/pci/devices", "vendor", vendor,
			  "device", device, bdf, len);
}

/* Name of the IOMMU instance (/sys/class/iommu/...) a PCI device sits behind */
static inline int pci_iommu_name(const char *bdf, char *name, size_t len)
{
	char path[300], link[300];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	copy_name(name, len, basename(link));
	return 0;
}

static inline int pci_group_type(const char *bdf, char *type, size_t len)
{
	char path[300];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/type", bdf);
	return read_line(path, type, len);
}

/* Set the IOMMU group type of a PCI device (its driver must be unbound) */
static inline int pci_set_group_type(const char *bdf, const char *type)
{
	char path[300];

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/type", bdf);
	return write_str(path, type);
}

/* Bind or unbind edu_dma from edu; 0 on success. */
static inline int edu_bind(const char *bdf, bool bind)
{
	return write_str(bind ? "/sys/bus/pci/drivers/edu_dma/bind" :
				"/sys/bus/pci/drivers/edu_dma/unbind", bdf);
}

/* Rebind edu_dma to edu with its group switched to @type; 0 on success */
static inline int edu_set_domain_type(const char *bdf, const char *type)
{
	char cur[32];

	if (!pci_group_type(bdf, cur, sizeof(cur)) && !strcmp(cur, type))
		return 0;
	if (edu_bind(bdf, false))
		return -1;
	if (pci_set_group_type(bdf, type)) {
		edu_bind(bdf, true);
		return -1;
	}
	return edu_bind(bdf, true);
}

#endif
