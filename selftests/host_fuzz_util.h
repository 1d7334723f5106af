/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of host_fuzz_test and host_failnth_test (plain TAP programs, no
 * kselftest harness: their run time is set on the command line, and the
 * harness's per-test timeout is fixed at build time): a seeded PRNG, errno
 * sets, result counters by kind, and the "nothing left behind" probes of a
 * VMM process (fd table, CD pages mapped by the module, iommufd object ids).
 */
#ifndef _SELFTESTS_HOST_FUZZ_UTIL_H
#define _SELFTESTS_HOST_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "host_test.h"

/* splitmix64: one 64-bit state, every value a function of seed and index */
struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias of a 64-bit modulo is irrelevant here) */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* True with probability pct / 100 */
static inline bool rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

static inline uint64_t rng_pick(struct rng *r, const uint64_t *v, size_t n)
{
	return v[rng_below(r, n)];
}

#define RNG_PICK(r, arr) rng_pick(r, arr, sizeof(arr) / sizeof((arr)[0]))

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A set of results: bit 0 success, bit e errno e (every errno is < 192). */
#define RES_MAX 192
struct eset {
	uint64_t m[RES_MAX / 64];
};

static inline struct eset eset_of(int e)
{
	struct eset s = { 0 };

	if (e >= 0 && e < RES_MAX)
		s.m[e / 64] |= 1ull << (e % 64);
	return s;
}

static inline void eset_add(struct eset *s, int e)
{
	if (e >= 0 && e < RES_MAX)
		s->m[e / 64] |= 1ull << (e % 64);
}

static inline bool eset_has(const struct eset *s, int e)
{
	return e >= 0 && e < RES_MAX && (s->m[e / 64] >> (e % 64)) & 1;
}

/* eset_list(0, EINVAL, ...): a literal set, ended by -1 */
static inline struct eset eset_list(int first, ...)
{
	struct eset s = eset_of(first);
	va_list ap;
	int e;

	va_start(ap, first);
	while ((e = va_arg(ap, int)) >= 0)
		eset_add(&s, e);
	va_end(ap);
	return s;
}

#define ESET(...) eset_list(__VA_ARGS__, -1)

static inline const char *errname(int e)
{
	const char *n;

	if (!e)
		return "ok";
	n = strerrorname_np(e);
	return n ? n : "E?";
}

static inline void eset_str(const struct eset *s, char *buf, size_t len)
{
	size_t off = 0;
	int e;

	buf[0] = 0;
	for (e = 0; e < RES_MAX && off + 1 < len; e++)
		if (eset_has(s, e))
			off += snprintf(buf + off, len - off, "%s%s",
					off ? "|" : "", errname(e));
}

/* Results by kind: how often each errno (0: success) came back */
struct kind_stats {
	const char *name;
	unsigned long long total;
	unsigned long long unexpected;
	unsigned long long ns;		/* time spent, where measured */
	unsigned long long res[RES_MAX];
};

static inline void stats_add(struct kind_stats *k, int e, bool expected)
{
	__atomic_add_fetch(&k->total, 1, __ATOMIC_RELAXED);
	if (e >= 0 && e < RES_MAX)
		__atomic_add_fetch(&k->res[e], 1, __ATOMIC_RELAXED);
	if (!expected)
		__atomic_add_fetch(&k->unexpected, 1, __ATOMIC_RELAXED);
}

static inline void stats_print(const char *title, struct kind_stats *k,
			       int nkinds)
{
	char line[1024];
	size_t off;
	unsigned long long all = 0;
	int i, e;

	ksft_print_msg("%s:\n", title);
	for (i = 0; i < nkinds; i++) {
		if (!k[i].total)
			continue;
		all += k[i].total;
		off = snprintf(line, sizeof(line), "  %-14s %8llu", k[i].name,
			       k[i].total);
		if (k[i].ns)
			off += snprintf(line + off, sizeof(line) - off,
					" %6.1f ms", k[i].ns / 1e6);
		off += snprintf(line + off, sizeof(line) - off, ":");
		for (e = 0; e < RES_MAX && off + 1 < sizeof(line); e++)
			if (k[i].res[e])
				off += snprintf(line + off, sizeof(line) - off,
						" %s=%llu", errname(e),
						k[i].res[e]);
		if (k[i].unexpected && off + 1 < sizeof(line))
			snprintf(line + off, sizeof(line) - off,
				 "  UNEXPECTED=%llu", k[i].unexpected);
		ksft_print_msg("%s\n", line);
	}
	ksft_print_msg("  %-14s %8llu\n", "all", all);
}

/* Open file descriptors of this process */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/*
 * Shared anonymous mappings of @len bytes in this process: the module's CD
 * page is one ("/dev/zero (deleted)", one page) while a table is attached.
 */
static inline int count_shared_anon(size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/dev/zero (deleted)") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi - lo == len)
			n++;
	fclose(f);
	return n;
}

/*
 * The id iommufd would give the next object: it allocates the lowest free
 * id, so an object left behind by a failed or undone call shows up as a
 * higher one.
 */
static inline int iommufd_next_id(int iommufd, uint32_t *id)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -errno;
	*id = alloc.out_ioas_id;
	destroy.id = alloc.out_ioas_id;
	if (ioctl(iommufd, IOMMU_DESTROY, &destroy))
		return -errno;
	return 0;
}

/*
 * iommufd_objects - the ids of every object in @iommufd below @max, as
 * text: IOMMU_HWPT_INVALIDATE with no entries looks any id up and answers
 * ENOENT only when there is nothing (host/iommufd_glue.c does the same).
 */
static inline int iommufd_objects(int iommufd, uint32_t max, char *buf,
				  size_t len)
{
	size_t off = 0;
	uint32_t id;
	int n = 0;

	buf[0] = 0;
	for (id = 1; id < max && off + 12 < len; id++) {
		struct iommu_hwpt_invalidate cmd = {
			.size = sizeof(cmd), .hwpt_id = id,
		};

		if (ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &cmd) &&
		    errno == ENOENT)
			continue;
		off += snprintf(buf + off, len - off, "%s%u", n ? " " : "", id);
		n++;
	}
	return n;
}

/*
 * guest_reset - the guest RAM of vmm_setup() again: zeroed, a fresh root
 * table mapping VA_SRC and VA_DST, the data pages at the same IPAs.
 */
static inline int guest_reset(struct vmm *v)
{
	memset(v->g.ram, 0, v->g.size);
	v->g.next = 0;
	return guest_layout(v);
}

/*
 * dma_round_trip - host_nest_test's dma_round_trip on an attached table:
 * edu reads @seed's pattern through VA_SRC and writes it back through
 * VA_DST. 0 if the bytes arrived, else a negative errno or -EIO.
 */
static inline int dma_round_trip(struct vmm *v, unsigned int seed)
{
	int ret;

	memset(guest_bytes(&v->g, v->p_dst), 0, XFER);
	ret = load_device(v, seed);
	if (ret)
		return ret;
	ret = vfio_edu_dma_to_ram(&v->edu, 0, VA_DST, XFER);
	if (ret)
		return ret;
	return holds(v, v->p_dst, seed) ? 0 : -EIO;
}

#endif /* _SELFTESTS_HOST_FUZZ_UTIL_H */
