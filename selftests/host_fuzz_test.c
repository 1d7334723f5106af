// SPDX-License-Identifier: GPL-2.0
/*
 * host_fuzz_test: a seeded fuzzer of the /dev/vfio-nest uAPI, playing a VMM
 * with a really attached edu (host_test.h's vmm_setup) on an SMMU that can
 * nest (smmuv3-nest profile).
 *
 *   host_fuzz_test [--seed S] [--iters N] [--seconds T] [--race-seconds R]
 *                  [--min-ioctls M] [--threads N] [--trace-from K]
 *
 * (--iters 0: no operation cap, T seconds; `make fuzz` runs it that way.)
 *
 * Phase 1 (deterministic per seed): N operations (default 15000, at most T
 * seconds, default 40): every ioctl and its neighbouring numbers, iommufd's
 * and VFIO's numbers, random numbers; size, flags and every reserved field;
 * NULL, unmapped, PROT_NONE, kernel, tagged, read-only and page-straddling
 * argument pointers; wrong kinds of fds for device_fd/iommufd; mutated
 * table configurations on the attached edu; random invalidation batches up
 * to VFIO_NEST_INV_MAX_ENTRIES with every entry_len/entry_num boundary;
 * read()/poll()/write()/mmap()/lseek(); DMA that faults; closing and
 * reopening the file while attached; a forked child using the inherited
 * file. Each result is checked against what the uAPI documentation
 * (common/vfio_nest.h) and the shared configuration rules
 * (common/arm_lpae_cfg.h) say for that input: the errno, the refused field
 * (out_bad_field) and INVALIDATE's entry_num. Every 64 operations (and
 * after each that changes the attachment) the process is probed: attached
 * or not as expected, one CD page mapped while attached and none otherwise,
 * no fd added to the fd table, no iommufd object left behind.
 * The sequence is a function of the seed alone: a failure at operation K
 * replays with --seed S --iters K+1 --trace-from K.
 *
 * Phase 2 (racy): R seconds (default 10) of N threads (default 9) on one
 * /dev/vfio-nest file, longer (up to R + 60 s) until both phases made M
 * ioctls (default 0, so that a loaded machine still makes as many):
 * ATTACH, INVALIDATE, DETACH, read, poll, GET_INFO,
 * DMA that faults, the file and the device/iommufd fd slots closed and
 * dup2()ed under the others, argument pages munmapped under them, and
 * poll() on the fd numbers where iommufd installs each new vEVENTQ before
 * ATTACH_TABLE takes it out of the fd table. Results must be in the set
 * each call can race into; afterwards, once detached, nothing of the
 * module may be left (CD page, fd, iommufd object).
 *
 * Then the device must work: attach + edu DMA round trip through a valid
 * table on the fuzzed file, in both stage-2 forms, then nothing left behind
 * in the iommufd, and again from a fresh VMM.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "host_fuzz_util.h"
#include "vfio_nest_lpae_field.h"

enum kind {
	K_VERSION, K_INFO, K_ATTACH, K_DETACH, K_INVALIDATE, K_BADNUM,
	K_READ, K_POLL, K_OTHER, K_DMA, K_REOPEN, K_FORK, K_PROBE, K_SLOTS,
	K_MUNMAP, NK
};

static const char *const kind_names[NK] = {
	"GET_VERSION", "GET_INFO", "ATTACH_TABLE", "DETACH_TABLE",
	"INVALIDATE", "bad-number", "read", "poll", "write/mmap/lseek",
	"edu-dma", "close+reopen", "fork-child", "probe", "close/dup2",
	"munmap",
};

/* Argument pages: ARG_PAGES read-write, then a PROT_NONE guard */
#define ARG_PAGES	3
/* Entries: the largest array (4096 entries of a page), then a guard */
#define ENT_BYTES	((size_t)VFIO_NEST_INV_MAX_ENTRIES * 4096 + 65536)
#define FAULT_SIZE	sizeof(struct vfio_nest_fault)
#define ENTRY_SIZE	sizeof(struct vfio_nest_inv_entry)
/* The longest entry_len the uAPI accepts, whatever the page size */
#define ENTRY_LEN_MAX	4096
#define MAX_FAILS_SHOWN	40

/* What an fd given as device_fd / iommufd is to the module */
enum dcls { D_VALID, D_EBADF, D_ENODEV, D_WIDE };
enum icls { I_VALID, I_EBADF, I_EBADFD, I_OTHER };

struct fdk {
	const char *name;
	int fd;			/* FD_NEST_SELF: the current /dev/vfio-nest */
	enum dcls d;
	enum icls i;
};

#define FD_NEST_SELF	(-1000)

/* printf's %llx of the __u64 fields */
#define ull unsigned long long

struct opts {
	unsigned long long seed;
	unsigned long long iters;
	double seconds;
	double race_seconds;
	unsigned long long min_ioctls;
	unsigned int threads;
	int64_t trace_from;
};

/* The model: what the module holds for our device */
struct dstate {
	bool attached;
	uint32_t s2_hwpt_id;	/* 0: IOAS form */
	uint64_t host_ipa;
	struct arm_lpae_cfg cfg;
};

static struct fz {
	struct opts o;
	struct vmm v;
	struct rng r;
	unsigned long long op;
	uint64_t page;
	struct arm_lpae_caps caps;
	uint32_t vmm_s2, paging;
	struct fdk fds[40];
	int nfds;
	uint8_t *arg, *ro, *none, *ents;
	size_t ents_len;	/* readable bytes at ents */
	struct dstate st;
	int base_fds;
	uint32_t base_next_id;
	struct kind_stats ks[NK];
	struct kind_stats race[NK];
	unsigned long long failures;
	unsigned long long ioctls;
	unsigned long long p1_ioctls;
	bool tracing;
	char desc[512];
} fz;

static void fail(const char *fmt, ...) __printf(1, 2);
static void fail(const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (__atomic_add_fetch(&fz.failures, 1, __ATOMIC_RELAXED) >
	    MAX_FAILS_SHOWN)
		return;
	if (fz.op == ULLONG_MAX)
		ksft_print_msg("FAIL (seed %llu, racing): %s\n", fz.o.seed, buf);
	else
		ksft_print_msg("FAIL op %llu (seed %llu): %s\n", fz.op,
			       fz.o.seed, buf);
}

static void trace(const char *fmt, ...) __printf(1, 2);
static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!fz.tracing)
		return;
	va_start(ap, fmt);
	vsnprintf(fz.desc, sizeof(fz.desc), fmt, ap);
	va_end(ap);
	ksft_print_msg("op %llu: %s\n", fz.op, fz.desc);
}

/* Record one result of phase 1 against its expected set. */
static void expect(enum kind k, int got, struct eset want, const char *what)
{
	bool ok = eset_has(&want, got);
	char ws[256];

	stats_add(&fz.ks[k], got, ok);
	if (ok)
		return;
	eset_str(&want, ws, sizeof(ws));
	fail("%s %s: got %s, expected %s", kind_names[k], what, errname(got),
	     ws);
}

static int nest_fd(void)
{
	return fz.v.fd;
}

static int fdk_fd(const struct fdk *f)
{
	return f->fd == FD_NEST_SELF ? nest_fd() : f->fd;
}

/* ioctl() as 0 or a positive errno */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	__atomic_add_fetch(&fz.ioctls, 1, __ATOMIC_RELAXED);
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* ---------------------------------------------------------------------- */
/* The model of the module's checks                                        */

/*
 * The table checks of ATTACH_TABLE (ipa_size, host_ipa, the shared
 * configuration rules, no root in the host page): errno, *field.
 */
static int model_check_table(const struct vfio_nest_attach_table *at,
			     uint32_t *field)
{
	uint64_t ipa_limit = 1ull << fz.caps.oas;
	uint64_t ipa_size = at->ipa_size ? at->ipa_size : ipa_limit;
	uint64_t pmask = ~(fz.page - 1);
	struct arm_lpae_cfg cfg = {
		.tcr = at->tcr, .ttbr0 = at->ttbr0, .ttbr1 = at->ttbr1,
		.mair = at->mair, .asid = at->asid,
	};
	const char *name = NULL;
	int ret;

	*field = VFIO_NEST_FIELD_IPA_SIZE;
	if (at->ipa_size & ~pmask)
		return -EINVAL;
	if (at->ipa_size > ipa_limit)
		return -ERANGE;
	*field = VFIO_NEST_FIELD_HOST_IPA;
	if (at->host_ipa & ~pmask)
		return -EINVAL;
	if (at->host_ipa >= ipa_size || ipa_size - at->host_ipa < fz.page)
		return -ERANGE;
	ret = arm_lpae_cfg_validate(&fz.caps, &cfg, ipa_size, &name);
	if (ret) {
		*field = vfio_nest_lpae_field(name);
		return ret;
	}
	*field = VFIO_NEST_FIELD_TTBR0;
	if ((at->ttbr0 & pmask) == at->host_ipa)
		return -EINVAL;
	*field = VFIO_NEST_FIELD_TTBR1;
	if ((at->ttbr1 & pmask) == at->host_ipa)
		return -EINVAL;
	*field = VFIO_NEST_FIELD_NONE;
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b,
			   uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * ATTACH_TABLE with @dev/@io as the kinds of its fds: the errno and field
 * expected, or a wider set (*wide) when the outcome depends on iommufd.
 */
static int model_attach(const struct vfio_nest_attach_table *at,
			const struct fdk *dev, const struct fdk *io,
			uint32_t *field, bool *wide)
{
	int ret;

	*wide = false;
	*field = VFIO_NEST_FIELD_FLAGS;
	if (at->flags)
		return -EOPNOTSUPP;
	*field = VFIO_NEST_FIELD_FORMAT;
	if (at->format != VFIO_NEST_FORMAT_ARM_LPAE_S1)
		return -EPROTONOSUPPORT;
	*field = VFIO_NEST_FIELD_DEVICE_FD;
	if (dev->d == D_EBADF)
		return -EBADF;
	if (dev->d == D_ENODEV)
		return -ENODEV;
	*field = VFIO_NEST_FIELD_IOMMUFD;
	if (io->i == I_EBADF)
		return -EBADF;
	if (io->i == I_EBADFD)
		return -EBADFD;
	/*
	 * Another file of the device (a second open of its cdev, not bound):
	 * a first attach as far as the module can tell, which VFIO refuses
	 * in the end (or iommufd, when the bound file's attachment is in the
	 * way).
	 */
	*wide = dev->d == D_WIDE;
	if (fz.st.attached && !*wide) {
		/* A re-attach changes the table, never the plumbing. */
		*field = io->i == I_OTHER ? VFIO_NEST_FIELD_IOMMUFD :
			 at->dev_id != fz.v.edu.dev_id ?
				VFIO_NEST_FIELD_DEV_ID :
			 at->s2_pt_id != fz.v.edu.ioas_id ?
				VFIO_NEST_FIELD_S2_PT_ID :
			 at->s2_hwpt_id != fz.st.s2_hwpt_id ?
				VFIO_NEST_FIELD_S2_HWPT_ID :
			 at->host_ipa != fz.st.host_ipa ?
				VFIO_NEST_FIELD_HOST_IPA :
				VFIO_NEST_FIELD_NONE;
		if (*field)
			return -EBUSY;
		return model_check_table(at, field);
	}
	/* A first attach proves the device is bound to this iommufd. */
	if (io->i == I_OTHER)
		return -EXDEV;
	*field = VFIO_NEST_FIELD_DEV_ID;
	if (at->dev_id != fz.v.edu.dev_id)
		return -ENOENT;
	*field = VFIO_NEST_FIELD_S2_PT_ID;
	if (at->s2_pt_id != fz.v.edu.ioas_id)
		return -ENOENT;
	ret = model_check_table(at, field);
	if (ret)
		return ret;
	*field = VFIO_NEST_FIELD_S2_HWPT_ID;
	if (at->s2_hwpt_id && at->s2_hwpt_id != fz.vmm_s2) {
		if (at->s2_hwpt_id == fz.v.edu.ioas_id ||
		    at->s2_hwpt_id == fz.v.edu.dev_id ||
		    at->s2_hwpt_id == fz.paging)
			return -EINVAL;
		return -ENOENT;
	}
	if (*wide)
		return 0;
	*field = VFIO_NEST_FIELD_HOST_IPA;
	if (ranges_overlap(at->host_ipa, fz.page, GUEST_IPA, GUEST_SIZE))
		return -EEXIST;
	*field = VFIO_NEST_FIELD_NONE;
	return 0;
}

/* Granule (log2) INVALIDATE decodes for the @upper or lower VA half */
static unsigned int model_tg(const struct arm_lpae_cfg *cfg, bool upper)
{
	if (upper && !ARM_LPAE_TCR_GET(cfg->tcr, EPD1))
		return arm_lpae_tg1_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG1));
	if (!ARM_LPAE_TCR_GET(cfg->tcr, EPD0))
		return arm_lpae_tg0_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG0));
	return arm_lpae_tg1_to_shift(ARM_LPAE_TCR_GET(cfg->tcr, TG1));
}

static bool leaf_ok(unsigned int tg, unsigned int shift)
{
	unsigned int stride = tg - 3;

	if (!tg || shift >= 64 || shift < tg || (shift - tg) % stride)
		return false;
	return (shift - tg) / stride <= (tg == 12 ? 2u : 1u);
}

/* One invalidation entry against the table in force: errno, *field. */
static int model_entry(const struct vfio_nest_inv_entry *e, uint32_t *field)
{
	uint64_t limit = 1ull << fz.caps.asid_bits;
	bool upper;

	*field = VFIO_NEST_FIELD_ENTRY_FLAGS;
	if (e->flags & ~(VFIO_NEST_INV_LEAF | VFIO_NEST_INV_CONFIG))
		return -EOPNOTSUPP;
	*field = VFIO_NEST_FIELD_ENTRY_RESERVED;
	if (e->__reserved)
		return -EINVAL;
	switch (e->scope) {
	case VFIO_NEST_INV_SCOPE_VA:
		*field = VFIO_NEST_FIELD_ENTRY_ASID;
		if (e->asid >= limit)
			return -ERANGE;
		upper = e->iova >> 63;
		*field = VFIO_NEST_FIELD_ENTRY_GRANULE;
		if (!leaf_ok(model_tg(&fz.st.cfg, upper), e->granule_shift))
			return -EINVAL;
		*field = VFIO_NEST_FIELD_ENTRY_IOVA;
		if (e->iova & ((1ull << e->granule_shift) - 1))
			return -EINVAL;
		*field = VFIO_NEST_FIELD_ENTRY_NR_PAGES;
		if (!e->nr_pages)
			return -EINVAL;
		if (e->nr_pages > (UINT64_MAX >> e->granule_shift) ||
		    (e->nr_pages << e->granule_shift) - 1 > UINT64_MAX - e->iova)
			return -EOVERFLOW;
		break;
	case VFIO_NEST_INV_SCOPE_ALL:
		*field = e->asid ? VFIO_NEST_FIELD_ENTRY_ASID :
			 e->granule_shift ? VFIO_NEST_FIELD_ENTRY_GRANULE :
			 e->iova ? VFIO_NEST_FIELD_ENTRY_IOVA :
			 e->nr_pages ? VFIO_NEST_FIELD_ENTRY_NR_PAGES :
			 VFIO_NEST_FIELD_NONE;
		if (*field)
			return -EINVAL;
		break;
	case VFIO_NEST_INV_SCOPE_ASID:
		*field = e->granule_shift ? VFIO_NEST_FIELD_ENTRY_GRANULE :
			 e->iova ? VFIO_NEST_FIELD_ENTRY_IOVA :
			 e->nr_pages ? VFIO_NEST_FIELD_ENTRY_NR_PAGES :
			 VFIO_NEST_FIELD_NONE;
		if (*field)
			return -EINVAL;
		*field = VFIO_NEST_FIELD_ENTRY_ASID;
		if (e->asid >= limit)
			return -ERANGE;
		break;
	default:
		*field = VFIO_NEST_FIELD_ENTRY_SCOPE;
		return -EINVAL;
	}
	*field = VFIO_NEST_FIELD_NONE;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Argument envelopes: where the structure lives and what its size says   */

enum env {
	ENV_OK, ENV_BIGZERO, ENV_BIGNZ, ENV_SHORT, ENV_BADPTR, ENV_STRADDLE,
	ENV_TAILFAULT, ENV_RO, ENV_HUGE, NENV
};

static const char *const env_names[NENV] = {
	"ok", "longer-zero-tail", "longer-nonzero-tail", "short", "bad-ptr",
	"straddles-guard", "tail-faults", "read-only", "huge-size",
};

struct call {
	enum env env;
	void *uptr;
	bool body;		/* the ioctl's own code runs */
	bool writeback;		/* and its outputs reach us */
	struct eset fixed;	/* the result when !body */
};

static uint8_t *arg_guard(void)
{
	return fz.arg + ARG_PAGES * fz.page;
}

static uint64_t bad_pointer(struct rng *r)
{
	const uint64_t ptrs[] = {
		0, 8, 0x1000, 0x200000, (uintptr_t)fz.none,
		(uintptr_t)fz.none + 0xff8, 0xffff000000000000ull,
		0xffff800080000000ull, 0xffffffc008000000ull,
		(uint64_t)-4096, (uint64_t)-1,
		(uintptr_t)fz.arg | 0x0f00000000000000ull,
		1ull << 48, 1ull << 52,
	};

	return RNG_PICK(r, ptrs);
}

/*
 * place - put @ksize bytes of @body somewhere according to a random
 * envelope, set its size field; the struct every ioctl takes starts with
 * __u32 size.
 */
static void place(struct call *c, const void *body, size_t ksize,
		  bool mutate)
{
	struct rng *r = &fz.r;
	uint8_t *g = arg_guard();
	size_t room = ARG_PAGES * fz.page;
	uint32_t usize = ksize;
	uint8_t *p;
	size_t off, t;

	c->env = mutate ? (enum env)(1 + rng_below(r, NENV - 1)) : ENV_OK;
	c->body = true;
	c->writeback = true;
	memset(&c->fixed, 0, sizeof(c->fixed));
	off = rng_pct(r, 10) ? rng_below(r, 64) : 8 * rng_below(r, 8);
	p = fz.arg + off;

	switch (c->env) {
	case ENV_OK:
		break;
	case ENV_BIGZERO:
		usize = ksize + 1 + rng_below(r, room - off - ksize);
		break;
	case ENV_BIGNZ:
		usize = ksize + 1 + rng_below(r, room - off - ksize);
		c->body = false;
		c->fixed = eset_of(E2BIG);
		break;
	case ENV_SHORT:
		usize = rng_below(r, ksize);
		c->body = false;
		c->fixed = eset_of(EINVAL);
		break;
	case ENV_BADPTR:
		c->uptr = (void *)(uintptr_t)bad_pointer(r);
		c->body = false;
		c->fixed = eset_of(EFAULT);
		return;
	case ENV_STRADDLE:
		t = rng_below(r, ksize);	/* bytes before the guard */
		p = g - t;
		if (rng_pct(r, 20))
			usize = rng_below(r, ksize);
		c->body = false;
		c->fixed = eset_of(t < 4 ? EFAULT :
				   usize < ksize ? EINVAL : EFAULT);
		c->uptr = p;
		memcpy(p, body, t);
		if (t >= 4)
			memcpy(p, &usize, 4);
		return;
	case ENV_TAILFAULT:
		t = rng_below(r, 65);
		p = g - ksize - t;
		usize = ksize + t + 1 + rng_below(r, 4096);
		c->body = false;
		c->fixed = eset_of(EFAULT);
		break;
	case ENV_RO:
		/* outputs are written back first: EFAULT before any change */
		mprotect(fz.ro, fz.page, PROT_READ | PROT_WRITE);
		memcpy(fz.ro, body, ksize);
		memcpy(fz.ro, &usize, 4);
		mprotect(fz.ro, fz.page, PROT_READ);
		c->uptr = fz.ro;
		c->body = false;
		c->writeback = false;
		c->fixed = eset_of(EFAULT);
		return;
	case ENV_HUGE: {
		const uint64_t sizes[] = { UINT32_MAX, 0x80000000u, 0x10000,
					   2 * ARG_PAGES * 4096 };

		usize = RNG_PICK(r, sizes);
		c->body = false;
		if (rng_pct(r, 50)) {
			/* a non-zero byte before the guard: E2BIG first */
			p[ksize + rng_below(r, g - p - ksize)] = 0x5a;
			c->fixed = eset_of(E2BIG);
		} else {
			c->fixed = eset_of(EFAULT);
		}
		break;
	}
	default:
		break;
	}
	memcpy(p, body, ksize);
	memcpy(p, &usize, 4);
	if (c->env == ENV_BIGNZ)
		p[ksize + rng_below(r, usize - ksize)] = 0xa5;
	c->uptr = p;
}

/* Run the call; copy the outputs back into @body when they were written. */
static int run(struct call *c, int fd, unsigned long cmd, void *body,
	       size_t ksize)
{
	int ret = xioctl(fd, cmd, c->uptr);

	if (c->writeback && c->body)
		memcpy(body, c->uptr, ksize);
	memset(fz.arg, 0, ARG_PAGES * fz.page);
	return ret;
}

/* The expected set of a placed call whose body would give @body_set. */
static struct eset call_set(const struct call *c, struct eset body_set)
{
	if (!c->body)
		return c->fixed;
	if (!c->writeback && eset_has(&body_set, 0)) {
		/* ran, but the outputs could not be copied back */
		body_set.m[0] &= ~1ull;
		eset_add(&body_set, EFAULT);
	}
	return body_set;
}

/* ---------------------------------------------------------------------- */
/* The fds handed over as device_fd and iommufd                            */

static void add_fd(const char *name, int fd, enum dcls d, enum icls i)
{
	if (fz.nfds >= (int)ARRAY_SIZE(fz.fds))
		return;
	if (fd < 0 && fd != FD_NEST_SELF && d != D_EBADF) {
		ksft_print_msg("fd kind %s unavailable: %s\n", name,
			       strerror(errno));
		return;
	}
	fz.fds[fz.nfds++] = (struct fdk){ name, fd, d, i };
}

static void setup_fds(void)
{
	char path[PATH_MAX], cdev[PATH_MAX];
	int p[2], fd, n;

	add_fd("edu-device", fz.v.edu.device_fd, D_VALID, I_EBADFD);
	add_fd("edu-device-dup", dup(fz.v.edu.device_fd), D_VALID, I_EBADFD);
	add_fd("iommufd", fz.v.edu.iommufd, D_ENODEV, I_VALID);
	add_fd("iommufd-dup", dup(fz.v.edu.iommufd), D_ENODEV, I_VALID);
	add_fd("iommufd-other", open("/dev/iommu", O_RDWR), D_ENODEV, I_OTHER);
	if (!vfio_edu_cdev_path(fz.v.edu.bdf, cdev, sizeof(cdev)))
		add_fd("edu-cdev-2nd-open", open(cdev, O_RDWR), D_WIDE,
		       I_EBADFD);
	if (!pipe(p)) {
		add_fd("pipe-read", p[0], D_ENODEV, I_EBADFD);
		add_fd("pipe-write", p[1], D_ENODEV, I_EBADFD);
	}
	unlink("/tmp/host_fuzz_fifo");
	if (!mkfifo("/tmp/host_fuzz_fifo", 0600))
		add_fd("fifo", open("/tmp/host_fuzz_fifo", O_RDWR), D_ENODEV,
		       I_EBADFD);
	mkdir("/dev/pts", 0755);
	mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666");
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	add_fd("pty-master", fd, D_ENODEV, I_EBADFD);
	if (fd >= 0 && !grantpt(fd) && !unlockpt(fd) && ptsname(fd))
		add_fd("pty-slave", open(ptsname(fd), O_RDWR | O_NOCTTY),
		       D_ENODEV, I_EBADFD);
	add_fd("dev-null", open("/dev/null", O_RDWR), D_ENODEV, I_EBADFD);
	add_fd("vfio-nest-self", FD_NEST_SELF, D_ENODEV, I_EBADFD);
	add_fd("vfio-nest-other", open_vfio_nest(), D_ENODEV, I_EBADFD);
	add_fd("eventfd", eventfd(0, 0), D_ENODEV, I_EBADFD);
	add_fd("socket", socket(AF_UNIX, SOCK_STREAM, 0), D_ENODEV, I_EBADFD);
	add_fd("memfd", memfd_create("host_fuzz", 0), D_ENODEV, I_EBADFD);
	add_fd("directory", open("/", O_RDONLY | O_DIRECTORY), D_ENODEV,
	       I_EBADFD);
	add_fd("o-path", open("/dev/null", O_PATH), D_EBADF, I_EBADF);
	add_fd("vfio-container", open("/dev/vfio/vfio", O_RDWR), D_ENODEV,
	       I_EBADFD);
	for (n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", n);
		fd = open(path, O_RDWR);
		if (fd >= 0) {
			add_fd("vfio-group", fd, D_WIDE, I_EBADFD);
			break;
		}
	}
	/* Not open: a number above everything we open, and nonsense. */
	add_fd("closed", 1000, D_EBADF, I_EBADF);
	add_fd("minus-one", -1, D_EBADF, I_EBADF);
	add_fd("int-max", INT_MAX, D_EBADF, I_EBADF);
	add_fd("int-min", INT_MIN, D_EBADF, I_EBADF);
}

/* Mostly a valid kind (the fd itself or its dup), else any kind */
static const struct fdk *pick_fd(struct rng *r, bool device, int valid_pct)
{
	const struct fdk *valid[4];
	int i, n = 0;

	for (i = 0; i < fz.nfds && n < 4; i++)
		if (device ? fz.fds[i].d == D_VALID : fz.fds[i].i == I_VALID)
			valid[n++] = &fz.fds[i];
	if (n && rng_pct(r, valid_pct))
		return valid[rng_pct(r, 80) ? 0 : rng_below(r, n)];
	return &fz.fds[rng_below(r, fz.nfds)];
}

/* ---------------------------------------------------------------------- */
/* Probes: the model against the module and the process                   */

static void probe(const char *when)
{
	struct vfio_nest_invalidate inv = {
		.size = sizeof(inv),
		.device_fd = fz.v.edu.device_fd,
		.entry_len = ENTRY_SIZE,
	};
	int ret, cd, fds;
	uint32_t id = 0;

	/* Zero entries on an attached device is a no-op that succeeds. */
	ret = xioctl(nest_fd(), VFIO_NEST_INVALIDATE, &inv);
	expect(K_PROBE, ret, eset_of(fz.st.attached ? 0 : ENOENT), when);
	cd = count_shared_anon(fz.page);
	if (cd != (fz.st.attached ? 1 : 0))
		fail("%s: %d CD page(s) mapped, attached=%d", when, cd,
		     fz.st.attached);
	fds = count_fds();
	if (fds != fz.base_fds)
		fail("%s: %d fds open, %d expected", when, fds, fz.base_fds);
	if (!fz.st.attached) {
		ret = iommufd_next_id(fz.v.edu.iommufd, &id);
		if (ret || id != fz.base_next_id)
			fail("%s: next object id %u (%d), %u before: one left behind",
			     when, id, ret, fz.base_next_id);
	}
}

/* ---------------------------------------------------------------------- */
/* Phase 1 operations                                                      */

static void op_version(void)
{
	struct vfio_nest_version ver = { .size = sizeof(ver) };
	struct rng *r = &fz.r;
	int want = 0, ret;
	struct call c;

	if (rng_pct(r, 15))
		ver.flags = rng_pct(r, 50) ? 1u << rng_below(r, 32) :
					     (uint32_t)rng_next(r);
	if (rng_pct(r, 15))
		ver.__reserved = (uint32_t)rng_next(r) | 1;
	if (rng_pct(r, 30))
		ver.version = (uint32_t)rng_next(r);
	want = ver.flags ? EOPNOTSUPP : ver.__reserved ? EINVAL : 0;
	place(&c, &ver, sizeof(ver), rng_pct(r, 30));
	trace("GET_VERSION flags %#x rsv %#x env %s", ver.flags,
	      ver.__reserved, env_names[c.env]);
	ret = run(&c, nest_fd(), VFIO_NEST_GET_VERSION, &ver, sizeof(ver));
	expect(K_VERSION, ret, call_set(&c, eset_of(want)), env_names[c.env]);
	if (!ret && c.writeback && ver.version != VFIO_NEST_API_VERSION)
		fail("GET_VERSION: version %u", ver.version);
}

static void op_info(void)
{
	struct vfio_nest_info info = { .size = sizeof(info) };
	struct rng *r = &fz.r;
	const struct fdk *io = pick_fd(r, false, 75);
	struct call c;
	int want, ret;

	info.iommufd = fdk_fd(io);
	info.dev_id = fz.v.edu.dev_id;
	if (rng_pct(r, 20)) {
		const uint64_t ids[] = { 0, fz.v.edu.ioas_id, fz.vmm_s2,
					 fz.paging, 0xdead0, UINT32_MAX };

		info.dev_id = RNG_PICK(r, ids);
	}
	if (rng_pct(r, 10))
		info.flags = (uint32_t)rng_next(r) | 1;
	if (rng_pct(r, 30)) {
		/* outputs given as input are ignored */
		info.out_caps = (uint32_t)rng_next(r);
		info.out_host_window = rng_next(r);
		info.out_smmu_idr[3] = (uint32_t)rng_next(r);
	}
	want = info.flags ? EOPNOTSUPP : io->i == I_EBADF ? EBADF :
	       io->i == I_EBADFD ? EBADFD :
	       io->i == I_OTHER || info.dev_id != fz.v.edu.dev_id ? ENOENT : 0;
	place(&c, &info, sizeof(info), rng_pct(r, 25));
	trace("GET_INFO iommufd %s dev_id %u flags %#x env %s", io->name,
	      info.dev_id, info.flags, env_names[c.env]);
	ret = run(&c, nest_fd(), VFIO_NEST_GET_INFO, &info, sizeof(info));
	expect(K_INFO, ret, call_set(&c, eset_of(want)), io->name);
	if (!ret && c.writeback &&
	    (info.out_caps != fz.v.info.out_caps ||
	     info.out_granules != fz.v.info.out_granules ||
	     info.out_oas != fz.v.info.out_oas ||
	     info.out_ias != fz.v.info.out_ias ||
	     info.out_asid_bits != fz.v.info.out_asid_bits ||
	     info.out_host_window != fz.v.info.out_host_window ||
	     memcmp(info.out_smmu_idr, fz.v.info.out_smmu_idr,
		    sizeof(info.out_smmu_idr))))
		fail("GET_INFO: outputs differ from the first call's");
}

/* A table root somewhere: mostly valid, aligned for @gshift/@ia bits */
static uint64_t gen_ttbr(struct rng *r)
{
	const uint64_t odd[] = {
		0, 8, 0x40, 0x1000, HOST_IPA, HOST_IPA + 0x800, S2_HOLE_IPA,
		1ull << 40, 1ull << 48, 1ull << 52, 0xffff000000000000ull,
		GUEST_IPA | (1ull << 48), (uint64_t)-4096,
	};

	if (rng_pct(r, 60))
		return GUEST_IPA + (rng_below(r, GUEST_SIZE) & ~0xfffull);
	if (rng_pct(r, 50))
		return RNG_PICK(r, odd);
	return rng_next(r) & (rng_pct(r, 50) ? 0xfffffffff000ull : ~0ull);
}

/* Attach arguments: the valid ones, some fields mutated. */
static void gen_attach(struct vfio_nest_attach_table *at, bool mutate)
{
	struct rng *r = &fz.r;
	uint64_t tcr;
	unsigned int n, i;

	*at = attach_args(&fz.v, 1 + rng_below(r, 255));
	if (fz.st.attached) {
		at->s2_hwpt_id = fz.st.s2_hwpt_id;
		at->host_ipa = fz.st.host_ipa;
	} else if (rng_pct(r, 30)) {
		at->s2_hwpt_id = fz.vmm_s2;
	}
	if (rng_pct(r, 10)) {
		/* the same table through its upper half */
		at->tcr &= ~(ARM_LPAE_TCR_PREP(EPD1, 1) |
			     ARM_LPAE_TCR_PREP(T1SZ, ~0ull));
		at->tcr |= ARM_LPAE_TCR_PREP(T1SZ,
					     ARM_LPAE_TCR_GET(at->tcr, T0SZ)) |
			   ARM_LPAE_TCR_PREP(TG1, ARM_LPAE_TCR_TG1_4K) |
			   ARM_LPAE_TCR_PREP(SH1, ARM_LPAE_TCR_SH_IS) |
			   ARM_LPAE_TCR_PREP(IRGN1, ARM_LPAE_TCR_RGN_WBWA) |
			   ARM_LPAE_TCR_PREP(ORGN1, ARM_LPAE_TCR_RGN_WBWA);
		at->ttbr1 = at->ttbr0;
		if (rng_pct(r, 50)) {
			at->tcr |= ARM_LPAE_TCR_PREP(EPD0, 1);
			at->ttbr0 = 0;
		}
	}
	if (fz.caps.asid_bits == 16 && rng_pct(r, 20)) {
		at->tcr |= ARM_LPAE_TCR_PREP(AS, 1);
		at->asid = rng_below(r, 1u << 16);
	}
	if (!mutate)
		return;

	n = 1 + (rng_pct(r, 30) ? rng_below(r, 3) : 0);
	for (i = 0; i < n; i++) {
		tcr = at->tcr;
		switch (rng_below(r, 18)) {
		case 0:
			tcr = (tcr & ~ARM_LPAE_TCR_PREP(T0SZ, ~0ull)) |
			      ARM_LPAE_TCR_PREP(T0SZ, rng_below(r, 64));
			break;
		case 1:
			tcr = (tcr & ~ARM_LPAE_TCR_PREP(TG0, ~0ull)) |
			      ARM_LPAE_TCR_PREP(TG0, rng_below(r, 4));
			break;
		case 2:
			tcr = (tcr & ~ARM_LPAE_TCR_PREP(SH0, ~0ull)) |
			      ARM_LPAE_TCR_PREP(SH0, rng_below(r, 4)) |
			      ARM_LPAE_TCR_PREP(IRGN0, rng_below(r, 4)) |
			      ARM_LPAE_TCR_PREP(ORGN0, rng_below(r, 4));
			break;
		case 3:
			tcr ^= ARM_LPAE_TCR_PREP(EPD0, 1);
			if (rng_pct(r, 50))
				at->ttbr0 = 0;
			break;
		case 4:
			tcr ^= ARM_LPAE_TCR_PREP(EPD1, 1);
			tcr = (tcr & ~(ARM_LPAE_TCR_PREP(T1SZ, ~0ull) |
				       ARM_LPAE_TCR_PREP(TG1, ~0ull) |
				       ARM_LPAE_TCR_PREP(SH1, ~0ull))) |
			      ARM_LPAE_TCR_PREP(T1SZ, rng_below(r, 64)) |
			      ARM_LPAE_TCR_PREP(TG1, rng_below(r, 4)) |
			      ARM_LPAE_TCR_PREP(SH1, rng_below(r, 4));
			at->ttbr1 = gen_ttbr(r);
			break;
		case 5:
			tcr = (tcr & ~ARM_LPAE_TCR_PREP(IPS, ~0ull)) |
			      ARM_LPAE_TCR_PREP(IPS, rng_below(r, 8));
			break;
		case 6:
			tcr ^= ARM_LPAE_TCR_PREP(AS, 1);
			break;
		case 7:
			tcr ^= ARM_LPAE_TCR_PREP(HA, 1);
			if (rng_pct(r, 50))
				tcr ^= ARM_LPAE_TCR_PREP(HD, 1);
			break;
		case 8:
			tcr ^= 1ull << rng_below(r, 64);
			break;
		case 9:
			tcr = rng_next(r) & (rng_pct(r, 50) ?
					     ARM_LPAE_TCR_VALID_BITS : ~0ull);
			break;
		case 10:
			at->ttbr0 = gen_ttbr(r);
			break;
		case 11:
			at->ttbr1 = gen_ttbr(r);
			break;
		case 12:
			if (rng_pct(r, 50))
				at->mair = rng_next(r);
			else
				at->mair ^= (uint64_t)(1 + rng_below(r, 255))
					    << (8 * rng_below(r, 8));
			break;
		case 13: {
			const uint64_t asids[] = { 0, 255, 256, 0xffff,
						   0x10000, UINT32_MAX };

			at->asid = rng_pct(r, 50) ? RNG_PICK(r, asids) :
						    (uint32_t)rng_next(r);
			break;
		}
		case 14: {
			const uint64_t sz[] = {
				0, fz.page, GUEST_IPA, GUEST_IPA + GUEST_SIZE,
				0x10000000, 0x10000001, 1ull << fz.caps.oas,
				2ull << fz.caps.oas, UINT64_MAX,
				UINT64_MAX & ~(fz.page - 1),
			};

			at->ipa_size = rng_pct(r, 70) ? RNG_PICK(r, sz) :
				       rng_next(r) >> rng_below(r, 64);
			break;
		}
		case 15: {
			const uint64_t ipas[] = {
				HOST_IPA, HOST_IPA + 0x100000, 0x2000000,
				0x10000000, HOST_IPA + 8, GUEST_IPA,
				GUEST_IPA + 0x100000, 0, 1ull << fz.caps.oas,
				UINT64_MAX,
			};

			at->host_ipa = RNG_PICK(r, ipas);
			if (rng_pct(r, 30))
				at->ttbr0 = at->host_ipa;
			break;
		}
		case 16: {
			const uint64_t ids[] = {
				0, fz.vmm_s2, fz.v.edu.ioas_id, fz.v.edu.dev_id,
				fz.paging, 0xdead0, UINT32_MAX,
			};

			at->s2_hwpt_id = RNG_PICK(r, ids);
			break;
		}
		case 17: {
			const uint64_t ids[] = {
				fz.v.edu.ioas_id, fz.vmm_s2, fz.v.edu.dev_id,
				0, 0xdead1, UINT32_MAX,
			};

			if (rng_pct(r, 50))
				at->s2_pt_id = RNG_PICK(r, ids);
			else
				at->dev_id = RNG_PICK(r, ids);
			break;
		}
		}
		at->tcr = tcr;
	}
	if (rng_pct(r, 5))
		at->format = rng_pct(r, 50) ? 0 : (uint32_t)rng_next(r) | 2;
	if (rng_pct(r, 5))
		at->flags = 1u << rng_below(r, 32);
	if (rng_pct(r, 10))
		at->out_bad_field = (uint32_t)rng_next(r);
}

static void op_attach(void)
{
	struct vfio_nest_attach_table at;
	struct rng *r = &fz.r;
	const struct fdk *dev, *io;
	bool mutate = rng_pct(r, 70), wide;
	uint32_t field;
	struct eset want;
	struct call c;
	int exp, ret;

	gen_attach(&at, mutate);
	dev = pick_fd(r, true, mutate ? 92 : 100);
	io = pick_fd(r, false, mutate ? 92 : 100);
	if (rng_pct(r, 2)) {
		/* iommufd and device fd swapped */
		dev = &fz.fds[2];
		io = &fz.fds[0];
	}
	at.device_fd = fdk_fd(dev);
	at.iommufd = fdk_fd(io);
	exp = -model_attach(&at, dev, io, &field, &wide);
	want = wide && !exp ? ESET(EINVAL, EEXIST, EBUSY, ENOENT, ENODEV) :
			      eset_of(exp);
	place(&c, &at, sizeof(at), rng_pct(r, 15));
	trace("ATTACH dev %s io %s dev_id %u s2 %u/%u fmt %u flags %#x asid %u",
	      dev->name, io->name, at.dev_id, at.s2_pt_id, at.s2_hwpt_id,
	      at.format, at.flags, at.asid);
	trace("  host_ipa %#llx ipa_size %#llx tcr %#llx ttbr0 %#llx",
	      (ull)at.host_ipa, (ull)at.ipa_size, (ull)at.tcr, (ull)at.ttbr0);
	trace("  ttbr1 %#llx mair %#llx env %s: %s", (ull)at.ttbr1,
	      (ull)at.mair, env_names[c.env], wide ? "wide" : errname(exp));
	ret = run(&c, nest_fd(), VFIO_NEST_ATTACH_TABLE, &at, sizeof(at));
	snprintf(fz.desc, sizeof(fz.desc),
		 "dev %s io %s tcr %#llx ttbr0 %#llx env %s",
		 dev->name, io->name, (ull)at.tcr, (ull)at.ttbr0,
		 env_names[c.env]);
	expect(K_ATTACH, ret, call_set(&c, want), fz.desc);
	if (c.body && c.writeback && (!wide || exp) && ret == exp) {
		if (ret && at.out_bad_field != field)
			fail("ATTACH_TABLE %s: out_bad_field %u, expected %u (%s)",
			     errname(ret), at.out_bad_field, field, fz.desc);
		if (!ret && at.out_bad_field)
			fail("ATTACH_TABLE ok: out_bad_field %u",
			     at.out_bad_field);
	}
	/* What the module now holds: the body's outcome. */
	if (c.body && !wide && (exp == 0 || ret == 0)) {
		if (ret && c.writeback) {
			/* refused what the model accepted: keep the model */
			return;
		}
		fz.st.attached = true;
		fz.st.s2_hwpt_id = at.s2_hwpt_id;
		fz.st.host_ipa = at.host_ipa;
		fz.st.cfg = (struct arm_lpae_cfg){
			.tcr = at.tcr, .ttbr0 = at.ttbr0, .ttbr1 = at.ttbr1,
			.mair = at.mair, .asid = at.asid,
		};
		probe("after attach");
	}
}

static void op_detach(void)
{
	struct vfio_nest_detach_table dt = { .size = sizeof(dt) };
	struct rng *r = &fz.r;
	const struct fdk *dev = pick_fd(r, true, 85);
	struct call c;
	int want, ret;

	dt.device_fd = fdk_fd(dev);
	dt.flags = rng_pct(r, 50) ? VFIO_NEST_DETACH_ABORT : 0;
	if (rng_pct(r, 8))
		dt.flags |= 1u << (1 + rng_below(r, 31));
	if (rng_pct(r, 8))
		dt.__reserved = (uint32_t)rng_next(r) | 1;
	want = dt.flags & ~VFIO_NEST_DETACH_ABORT ? EOPNOTSUPP :
	       dt.__reserved ? EINVAL : dev->d == D_EBADF ? EBADF :
	       dev->d != D_VALID || !fz.st.attached ? ENOENT : 0;
	place(&c, &dt, sizeof(dt), rng_pct(r, 15));
	trace("DETACH dev %s flags %#x rsv %#x env %s -> %s", dev->name,
	      dt.flags, dt.__reserved, env_names[c.env], errname(want));
	ret = run(&c, nest_fd(), VFIO_NEST_DETACH_TABLE, &dt, sizeof(dt));
	expect(K_DETACH, ret, call_set(&c, eset_of(want)), dev->name);
	if (c.body && (want == 0 || ret == 0) && !(ret && c.writeback)) {
		fz.st.attached = false;
		probe("after detach");
	}
}

/* A valid entry for the table in force, continuing @prev's range at times */
static void gen_entry(struct rng *r, struct vfio_nest_inv_entry *e,
		      const struct vfio_nest_inv_entry *prev)
{
	uint64_t limit = 1ull << fz.caps.asid_bits, span, nr;
	unsigned int tg, gs, k;
	bool upper;

	memset(e, 0, sizeof(*e));
	if (prev && prev->scope == VFIO_NEST_INV_SCOPE_VA && rng_pct(r, 40)) {
		*e = *prev;
		e->iova = prev->iova + (prev->nr_pages << prev->granule_shift);
		e->nr_pages = 1 + (rng_pct(r, 70) ? 0 : rng_below(r, 16));
		if (e->iova && !((e->iova ^ prev->iova) >> 63) &&
		    !model_entry(e, &k))
			return;
		memset(e, 0, sizeof(*e));
	}
	switch (rng_below(r, 10)) {
	case 0:
		e->scope = VFIO_NEST_INV_SCOPE_ALL;
		break;
	case 1:
	case 2:
		e->scope = VFIO_NEST_INV_SCOPE_ASID;
		e->asid = rng_pct(r, 60) ? fz.st.cfg.asid : rng_below(r, limit);
		break;
	default:
		e->scope = VFIO_NEST_INV_SCOPE_VA;
		e->asid = rng_pct(r, 60) ? fz.st.cfg.asid : rng_below(r, limit);
		upper = rng_pct(r, 15);
		tg = model_tg(&fz.st.cfg, upper);
		if (!tg)
			tg = 12;
		k = rng_below(r, tg == 12 ? 3 : 2);
		gs = tg + k * (tg - 3);
		e->granule_shift = gs;
		e->iova = (rng_next(r) & ((1ull << 39) - 1)) &
			  ~((1ull << gs) - 1);
		if (upper)
			e->iova = ~e->iova & ~((1ull << gs) - 1);
		span = upper ? (0 - e->iova) >> gs : UINT64_MAX >> gs;
		switch (rng_below(r, 10)) {
		case 0:
			nr = 1ull << (32 + rng_below(r, 5));
			if (!upper)
				e->iova = 0;
			break;
		case 1:
			nr = 1 + rng_below(r, 1 << 20);
			break;
		case 2:
		case 3:
			nr = 1 + rng_below(r, 64);
			break;
		default:
			nr = 1;
			break;
		}
		e->nr_pages = nr > span ? (span ? span : 1) : nr;
		break;
	}
	e->flags = rng_below(r, 4);
}

/* One malformed entry */
static void gen_bad_entry(struct rng *r, struct vfio_nest_inv_entry *e)
{
	uint64_t limit = 1ull << fz.caps.asid_bits;
	const uint64_t shifts[] = { 0, 11, 13, 14, 16, 20, 22, 29, 31, 39,
				    48, 63, 64, 200, UINT32_MAX };

	switch (rng_below(r, 12)) {
	case 0:
		e->flags |= 1u << (2 + rng_below(r, 30));
		break;
	case 1:
		e->__reserved = rng_next(r) | 1;
		break;
	case 2:
		e->scope = 3 + (uint32_t)rng_below(r, UINT32_MAX - 3);
		break;
	case 3:
		e->asid = limit + rng_below(r, UINT32_MAX - limit);
		break;
	case 4:
		e->granule_shift = RNG_PICK(r, shifts);
		break;
	case 5:
		e->iova |= 1ull << rng_below(r, 12);
		break;
	case 6:
		e->nr_pages = 0;
		break;
	case 7:
		e->nr_pages = UINT64_MAX >> rng_below(r, 20);
		break;
	case 8:
		e->iova = ~0ull << (e->granule_shift < 64 ?
				    e->granule_shift : 12);
		e->nr_pages = 2 + rng_below(r, 100);
		break;
	case 9:
		e->scope = VFIO_NEST_INV_SCOPE_ALL;
		break;
	case 10:
		e->scope = VFIO_NEST_INV_SCOPE_ASID;
		break;
	default:
		e->scope = rng_below(r, 3);
		e->asid = (uint32_t)rng_next(r);
		e->granule_shift = rng_below(r, 70);
		e->iova = rng_next(r);
		e->nr_pages = rng_next(r) >> rng_below(r, 64);
		e->flags = rng_below(r, 8);
		break;
	}
}

static void op_invalidate(void)
{
	static struct vfio_nest_inv_entry e[VFIO_NEST_INV_MAX_ENTRIES];
	struct vfio_nest_invalidate inv = { .size = sizeof(inv) };
	struct rng *r = &fz.r;
	const struct fdk *dev = pick_fd(r, true, 90);
	uint32_t n, len, i, handled = 0, field = 0, efield, nwrite;
	uint64_t avail;
	uint8_t *base, *p;
	int want = 0, ret;
	bool tailnz = false, at_guard = false, bad_uptr = false;
	bool efault_alt = false;
	uint32_t efault_lo = 0;
	struct eset wantset;
	struct call c;

	/* How many entries, how long each */
	switch (rng_below(r, 40)) {
	case 0:
	case 1:
		n = 0;
		break;
	case 2:
		n = VFIO_NEST_INV_MAX_ENTRIES;
		break;
	case 3:
	case 4:
		n = VFIO_NEST_INV_MAX_ENTRIES + 1;
		break;
	case 5:
	case 6:
		n = rng_pct(r, 50) ? UINT32_MAX : (uint32_t)rng_next(r);
		break;
	case 7:
	case 8:
		n = 65 + rng_below(r, VFIO_NEST_INV_MAX_ENTRIES - 64);
		break;
	default:
		n = 1 + rng_below(r, rng_pct(r, 50) ? 4 : 64);
		break;
	}
	len = ENTRY_SIZE;
	if (rng_pct(r, 15)) {
		const uint64_t lens[] = {
			0, 1, ENTRY_SIZE - 1, ENTRY_SIZE + 1, ENTRY_SIZE + 8,
			64, 4096, ENTRY_LEN_MAX + 1, fz.page + 1, UINT32_MAX,
			0x80000000u,
		};

		len = rng_pct(r, 70) ? RNG_PICK(r, lens) :
				       ENTRY_SIZE + rng_below(r, fz.page);
	}

	/* Entries: valid for the table in force, maybe one malformed */
	nwrite = n <= VFIO_NEST_INV_MAX_ENTRIES ? n : VFIO_NEST_INV_MAX_ENTRIES;
	for (i = 0; i < nwrite; i++)
		gen_entry(r, &e[i], i ? &e[i - 1] : NULL);
	if (nwrite && rng_pct(r, 35))
		gen_bad_entry(r, &e[rng_below(r, nwrite)]);
	if (nwrite && rng_pct(r, 3))
		for (i = 0; i < nwrite; i++)
			gen_bad_entry(r, &e[i]);

	/* Where: the entry area; near its guard; or a bad pointer */
	base = fz.ents + 8 * rng_below(r, 64);
	if (len >= ENTRY_SIZE && len <= ENTRY_LEN_MAX && nwrite &&
	    (uint64_t)nwrite * len <= fz.ents_len - 512 && rng_pct(r, 8)) {
		/* entries from some index on lie beyond the guard */
		avail = (uint64_t)rng_below(r, nwrite) * len +
			rng_below(r, len);
		base = fz.ents + fz.ents_len - avail;
		at_guard = true;
	} else if ((uint64_t)nwrite * len > fz.ents_len - 512) {
		nwrite = 0;	/* refused before any entry is read */
	}
	if (rng_pct(r, 3)) {
		inv.entries_uptr = bad_pointer(r);
		bad_uptr = true;
	} else {
		inv.entries_uptr = (uintptr_t)base;
	}
	if (!bad_uptr && len > ENTRY_SIZE && len <= ENTRY_LEN_MAX &&
	    rng_pct(r, 30))
		tailnz = true;
	for (i = 0; !bad_uptr && i < nwrite; i++) {
		p = base + (uint64_t)i * len;
		if (p >= fz.ents + fz.ents_len)
			break;
		avail = fz.ents + fz.ents_len - p;
		memcpy(p, &e[i], avail < ENTRY_SIZE ? avail : ENTRY_SIZE);
		if (tailnz && i == nwrite / 2 && avail > ENTRY_SIZE)
			p[ENTRY_SIZE + rng_below(r, (avail < len ? avail : len) -
							ENTRY_SIZE)] = 0x77;
	}

	inv.device_fd = fdk_fd(dev);
	inv.entry_len = len;
	inv.entry_num = n;
	if (rng_pct(r, 4))
		inv.flags = 1u << rng_below(r, 32);
	if (rng_pct(r, 4))
		inv.__reserved = (uint32_t)rng_next(r) | 1;
	if (rng_pct(r, 4))
		inv.__reserved2 = (uint32_t)rng_next(r) | 1;
	if (rng_pct(r, 10))
		inv.out_bad_field = (uint32_t)rng_next(r);

	/* The model */
	if (inv.flags) {
		want = EOPNOTSUPP;
		efield = VFIO_NEST_FIELD_FLAGS;
	} else if (inv.__reserved || inv.__reserved2) {
		want = EINVAL;
		efield = VFIO_NEST_FIELD_RESERVED;
	} else if (len < ENTRY_SIZE || len > ENTRY_LEN_MAX) {
		want = EINVAL;
		efield = VFIO_NEST_FIELD_ENTRY_LEN;
	} else if (n > VFIO_NEST_INV_MAX_ENTRIES) {
		want = EINVAL;
		efield = VFIO_NEST_FIELD_ENTRY_NUM;
	} else if (dev->d == D_EBADF) {
		want = EBADF;
		efield = VFIO_NEST_FIELD_DEVICE_FD;
	} else if (dev->d != D_VALID || !fz.st.attached) {
		want = ENOENT;
		efield = VFIO_NEST_FIELD_DEVICE_FD;
	} else {
		efield = VFIO_NEST_FIELD_NONE;
		for (i = 0; i < n; i++) {
			uint64_t end;

			p = base + (uint64_t)i * len;
			if (bad_uptr) {
				want = EFAULT;
				break;
			}
			end = (p - fz.ents) + len;
			if (len == ENTRY_SIZE) {
				/*
				 * Copied 64 at a time; the entries of a block
				 * before its fault count as handled, as far
				 * as copy_from_user() got: somewhere from
				 * the block's start to entry i.
				 */
				uint32_t blk = i - i % 64;
				uint32_t m = n - blk < 64 ? n - blk : 64;

				if ((uint64_t)(base - fz.ents) +
				    (uint64_t)(blk + m) * ENTRY_SIZE >
				    fz.ents_len) {
					efault_alt = true;
					efault_lo = blk;
				}
				if (end > fz.ents_len) {
					want = EFAULT;
					break;
				}
			} else {
				if (end > fz.ents_len) {
					/* the tail is read first */
					want = tailnz && i == nwrite / 2 ?
						ESRCH : EFAULT;
					break;
				}
				if (tailnz && i == nwrite / 2) {
					want = E2BIG;
					efield = VFIO_NEST_FIELD_ENTRY_LEN;
					break;
				}
			}
			want = -model_entry(&e[i], &efield);
			if (want)
				break;
		}
		handled = i;
		if (want == EFAULT && !efault_alt)
			efault_lo = i;
		if (want == EFAULT) {
			efault_alt = true;
			efield = VFIO_NEST_FIELD_NONE;
		}
	}

	place(&c, &inv, sizeof(inv), rng_pct(r, 12));
	trace("INVALIDATE dev %s len %u num %u uptr %#llx%s%s flags %#x rsv %#x/%#x env %s: %s@%u",
	      dev->name, len, n, (ull)inv.entries_uptr,
	      at_guard ? " (guard)" : "", tailnz ? " (tail)" : "", inv.flags,
	      inv.__reserved, inv.__reserved2, env_names[c.env],
	      errname(want), handled);
	if (handled < nwrite)
		trace("  entry %u: scope %u flags %#x asid %u gs %u iova %#llx nr %#llx rsv %#llx",
		      handled, e[handled].scope, e[handled].flags,
		      e[handled].asid, e[handled].granule_shift,
		      (ull)e[handled].iova, (ull)e[handled].nr_pages,
		      (ull)e[handled].__reserved);
	ret = run(&c, nest_fd(), VFIO_NEST_INVALIDATE, &inv, sizeof(inv));

	/* Clean the entry area for the next call (entries may overlap) */
	for (i = 0; !bad_uptr && i < nwrite; i++) {
		size_t sz = len > ENTRY_SIZE ? len : ENTRY_SIZE;

		p = base + (uint64_t)i * len;
		if (p >= fz.ents + fz.ents_len)
			break;
		avail = fz.ents + fz.ents_len - p;
		memset(p, 0, avail < sz ? avail : sz);
	}

	if (want == ESRCH) {
		/* a non-zero tail byte before the guard, or the guard first */
		expect(K_INVALIDATE, ret, call_set(&c, ESET(E2BIG, EFAULT)),
		       "tail at guard");
		return;
	}
	snprintf(fz.desc, sizeof(fz.desc), "dev %s len %u num %u%s%s env %s",
		 dev->name, len, n, at_guard ? " guard" : "",
		 bad_uptr ? " bad-uptr" : "", env_names[c.env]);
	wantset = eset_of(want);
	if (efault_alt)
		eset_add(&wantset, EFAULT);
	/*
	 * A longer entry's tail is read first: past the end of a bad
	 * pointer's page (fz.none + 0xff8) it can be readable and non-zero.
	 */
	if (bad_uptr && want == EFAULT && len > ENTRY_SIZE)
		eset_add(&wantset, E2BIG);
	expect(K_INVALIDATE, ret, call_set(&c, wantset), fz.desc);
	if (!c.body || !c.writeback || !eset_has(&wantset, ret))
		return;
	if (ret == E2BIG && bad_uptr) {
		if (inv.entry_num)
			fail("INVALIDATE E2BIG: entry_num %u (%s)",
			     inv.entry_num, fz.desc);
		return;
	}
	if (ret == EFAULT && efault_alt) {
		/* entries before the fault were issued, how many depends */
		if (inv.entry_num < efault_lo || inv.entry_num > handled)
			fail("INVALIDATE EFAULT: entry_num %u, expected %u..%u (%s)",
			     inv.entry_num, efault_lo, handled, fz.desc);
		if (inv.out_bad_field)
			fail("INVALIDATE EFAULT: out_bad_field %u (%s)",
			     inv.out_bad_field, fz.desc);
		return;
	}
	if (inv.entry_num != handled)
		fail("INVALIDATE %s: entry_num %u, expected %u (%s)",
		     errname(ret), inv.entry_num, handled, fz.desc);
	if (ret && inv.out_bad_field != efield)
		fail("INVALIDATE %s: out_bad_field %u, expected %u (%s)",
		     errname(ret), inv.out_bad_field, efield, fz.desc);
	(void)field;
}

/* Numbers that are not ours, sent to /dev/vfio-nest */
static const uint64_t foreign_cmds[] = {
	IOMMU_DESTROY, IOMMU_IOAS_ALLOC, IOMMU_IOAS_ALLOW_IOVAS,
	IOMMU_IOAS_COPY, IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_MAP,
	IOMMU_IOAS_UNMAP, IOMMU_OPTION, IOMMU_VFIO_IOAS, IOMMU_HWPT_ALLOC,
	IOMMU_GET_HW_INFO, IOMMU_HWPT_SET_DIRTY_TRACKING,
	IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_INVALIDATE,
	IOMMU_FAULT_QUEUE_ALLOC, IOMMU_IOAS_MAP_FILE, IOMMU_VIOMMU_ALLOC,
	IOMMU_VDEVICE_ALLOC, IOMMU_VEVENTQ_ALLOC,
	VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
	VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
	VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO,
	VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_GET_IRQ_INFO,
	VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_RESET, VFIO_DEVICE_FEATURE,
	VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
	VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_IOMMU_MAP_DMA,
	VFIO_IOMMU_UNMAP_DMA,
};

static const uint64_t our_cmds[] = {
	VFIO_NEST_GET_VERSION, VFIO_NEST_GET_INFO, VFIO_NEST_ATTACH_TABLE,
	VFIO_NEST_DETACH_TABLE, VFIO_NEST_INVALIDATE,
};

static bool is_ours(uint32_t cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(our_cmds); i++)
		if (cmd == our_cmds[i])
			return true;
	return false;
}

/*
 * Types the VFS itself answers on any file (FIOCLEX, FIONBIO, FIFREEZE,
 * FS_IOC_SETFLAGS, FIGETBSZ, FS_IOC_GETFSUUID, ...): not ours to send at
 * random to a devtmpfs node.
 */
static bool vfs_type(uint32_t cmd)
{
	uint32_t t = _IOC_TYPE(cmd);

	return t == 0 || t == 0x15 || t == 'T' || t == 'X' || t == 'f' ||
	       t == 0x94;
}

static void op_badnum(void)
{
	struct rng *r = &fz.r;
	uint8_t *buf = fz.arg;
	uint32_t cmd, base = VFIO_NEST_CMD_BASE;
	int ret, target = 0;
	int fd = nest_fd();

	switch (rng_below(r, 6)) {
	case 0:	/* the neighbours of our numbers */
		cmd = _IO(VFIO_NEST_TYPE,
			  (base + rng_below(r, 24) - 8) & _IOC_NRMASK);
		break;
	case 1:	/* ours with direction/size bits */
		cmd = RNG_PICK(r, our_cmds);
		cmd |= (uint32_t)(1 + rng_below(r, 3)) << _IOC_DIRSHIFT;
		cmd |= (uint32_t)rng_below(r, 1 << _IOC_SIZEBITS)
		       << _IOC_SIZESHIFT;
		break;
	case 2:	/* iommufd's and VFIO's */
		cmd = RNG_PICK(r, foreign_cmds);
		break;
	case 3:	/* the whole ';' range */
		cmd = _IO(';', rng_below(r, 256));
		break;
	case 4:	/* any number of our type */
		cmd = (uint32_t)rng_next(r);
		cmd = (cmd & ~(_IOC_TYPEMASK << _IOC_TYPESHIFT)) |
		      ((uint32_t)VFIO_NEST_TYPE << _IOC_TYPESHIFT);
		break;
	default:
		cmd = (uint32_t)rng_next(r);
		break;
	}
	if (vfs_type(cmd) && !is_ours(cmd))
		cmd = _IO(VFIO_NEST_TYPE, 0xff);
	if (rng_pct(r, 10)) {
		/* ours, to the VFIO device and the iommufd */
		cmd = RNG_PICK(r, our_cmds);
		target = 1 + rng_below(r, 2);
		fd = target == 1 ? fz.v.edu.device_fd : fz.v.edu.iommufd;
	}
	/* a plausible argument: a zeroed struct with a size */
	*(uint32_t *)buf = 8 * rng_below(r, 12);
	trace("ioctl %#x to %s", cmd,
	      target == 0 ? "vfio-nest" : target == 1 ? "device" : "iommufd");
	if (target == 0 && is_ours(cmd)) {
		memset(buf, 0, 64);
		return;		/* those are fuzzed on their own */
	}
	ret = xioctl(fd, cmd, buf);
	memset(buf, 0, 64);
	snprintf(fz.desc, sizeof(fz.desc), "%#x to %s", cmd,
		 target == 0 ? "vfio-nest" : target == 1 ? "device" : "iommufd");
	expect(K_BADNUM, ret, eset_of(ENOTTY), fz.desc);
}

static bool fault_ok(const struct vfio_nest_fault *f)
{
	return f->dev_id == fz.v.edu.dev_id &&
	       f->reason >= VFIO_NEST_FAULT_TRANSLATION &&
	       f->reason <= VFIO_NEST_FAULT_OTHER &&
	       !(f->flags & ~(VFIO_NEST_FAULT_WRITE | VFIO_NEST_FAULT_STAGE2 |
			      VFIO_NEST_FAULT_LOST)) &&
	       !f->__reserved;
}

static void op_read(void)
{
	const uint64_t counts[] = { 0, 1, FAULT_SIZE - 1, FAULT_SIZE,
				    FAULT_SIZE + 1, 2 * FAULT_SIZE,
				    64 * FAULT_SIZE, 65 * FAULT_SIZE,
				    4096, SSIZE_MAX };
	struct vfio_nest_fault *f = (void *)fz.arg;
	struct rng *r = &fz.r;
	size_t count = RNG_PICK(r, counts), room = ARG_PAGES * fz.page;
	bool bad = rng_pct(r, 10);
	void *buf = bad ? (void *)(uintptr_t)bad_pointer(r) : (void *)f;
	struct eset want;
	ssize_t n;
	int ret, i;

	if (!bad && count > room)
		count = room;
	trace("read %zu bytes to %p", count, buf);
	n = read(nest_fd(), buf, count);
	ret = n < 0 ? errno : 0;
	/*
	 * A bad buffer fails before any record is taken off a queue (and a
	 * kernel address before the module sees the call).
	 */
	want = count < FAULT_SIZE ? (bad ? ESET(EINVAL, EFAULT) :
				     eset_of(EINVAL)) :
	       bad ? eset_of(EFAULT) : ESET(0, EAGAIN);
	expect(K_READ, ret, want, bad ? "bad buffer" : "buffer");
	if (n > 0) {
		size_t max = count / FAULT_SIZE < 64 ? count / FAULT_SIZE : 64;

		if (n % FAULT_SIZE || (size_t)n / FAULT_SIZE > max)
			fail("read(%zu) returned %zd", count, n);
		for (i = 0; i < n / (ssize_t)FAULT_SIZE; i++)
			if (!fault_ok(&f[i]))
				fail("fault record %d: dev_id %u reason %u flags %#x",
				     i, f[i].dev_id, f[i].reason, f[i].flags);
	}
	memset(fz.arg, 0, room);
}

static void op_poll(void)
{
	struct pollfd pfd = { .fd = nest_fd() };
	int ret;

	pfd.events = rng_pct(&fz.r, 50) ? POLLIN : POLLIN | POLLOUT | POLLPRI;
	trace("poll events %#x", pfd.events);
	ret = poll(&pfd, 1, 0);
	expect(K_POLL, ret < 0 ? errno : 0, eset_of(0), "timeout 0");
	if (ret > 0 && (pfd.revents & ~(POLLIN | POLLRDNORM)))
		fail("poll: revents %#x", pfd.revents);
}

static void op_other(void)
{
	struct rng *r = &fz.r;
	int ret;
	void *p;

	switch (rng_below(r, 4)) {
	case 0:
		trace("write");
		ret = write(nest_fd(), fz.arg, rng_below(r, 64)) < 0 ? errno : 0;
		expect(K_OTHER, ret, eset_of(EINVAL), "write");
		break;
	case 1:
		trace("mmap");
		p = mmap(NULL, fz.page, PROT_READ, MAP_SHARED, nest_fd(), 0);
		ret = p == MAP_FAILED ? errno : 0;
		if (p != MAP_FAILED)
			munmap(p, fz.page);
		expect(K_OTHER, ret, eset_of(ENODEV), "mmap");
		break;
	case 2:
		trace("lseek");
		ret = lseek(nest_fd(), rng_below(r, 4096), SEEK_SET) < 0 ?
			errno : 0;
		expect(K_OTHER, ret, eset_of(ESPIPE), "lseek");
		break;
	default:
		trace("pread");
		ret = pread(nest_fd(), fz.arg, FAULT_SIZE, 0) < 0 ? errno : 0;
		expect(K_OTHER, ret, eset_of(ESPIPE), "pread");
		break;
	}
}

/* edu reads through whatever table is attached: faults, mostly. */
static void op_dma(void)
{
	const uint64_t vas[] = { VA_HOLE, VA_SRC, VA_S2_HOLE, VA_STALE,
				 0x0fff000 };
	uint64_t va = RNG_PICK(&fz.r, vas);
	int ret;

	trace("edu DMA from %#llx", (ull)va);
	ret = vfio_edu_dma_to_device(&fz.v.edu, va, 0, 8);
	expect(K_DMA, ret < 0 ? -ret : 0, eset_of(0), "to device");
}

/* Close the file while attached (release detaches), open a new context. */
static void op_reopen(void)
{
	int ret;

	trace("close + reopen /dev/vfio-nest (attached %d)", fz.st.attached);
	ret = close(fz.v.fd) ? errno : 0;
	fz.v.fd = open_vfio_nest();
	expect(K_REOPEN, ret ? ret : fz.v.fd < 0 ? errno : 0, eset_of(0),
	       "close");
	fz.st.attached = false;
	/* the context is bound to the first mm that uses it: ours */
	ret = xioctl(fz.v.fd, VFIO_NEST_GET_INFO, &(struct vfio_nest_info){
		.size = sizeof(struct vfio_nest_info),
		.iommufd = fz.v.edu.iommufd, .dev_id = fz.v.edu.dev_id });
	expect(K_INFO, ret, eset_of(0), "after reopen");
	probe("after reopen");
}

/*
 * A forked child (another mm) may not drive the VMM's iommufd through the
 * inherited file: EPERM wherever the module would, the rest as usual.
 */
static void op_fork_uses(void)
{
	int p[2], st, got[5] = { 0 }, want[5];
	struct vfio_nest_attach_table at = attach_args(&fz.v, 7);
	bool attached = fz.st.attached;
	pid_t pid;

	trace("fork: child uses the file (attached %d)", attached);
	if (pipe(p)) {
		fail("pipe: %s", strerror(errno));
		return;
	}
	if (attached) {
		at.s2_hwpt_id = fz.st.s2_hwpt_id;
		at.host_ipa = fz.st.host_ipa;
	}
	pid = fork();
	if (pid == 0) {
		struct vfio_nest_inv_entry e = { .scope = 0 };
		struct vfio_nest_invalidate inv = {
			.size = sizeof(inv), .device_fd = fz.v.edu.device_fd,
			.entry_len = sizeof(e), .entry_num = 1,
			.entries_uptr = (uintptr_t)&e,
		};
		struct vfio_nest_info info = {
			.size = sizeof(info), .iommufd = fz.v.edu.iommufd,
			.dev_id = fz.v.edu.dev_id,
		};
		struct vfio_nest_detach_table dt = {
			.size = sizeof(dt), .device_fd = fz.v.edu.device_fd,
		};
		struct vfio_nest_fault f;

		got[0] = ioctl(fz.v.fd, VFIO_NEST_GET_INFO, &info) ? errno : 0;
		got[1] = ioctl(fz.v.fd, VFIO_NEST_ATTACH_TABLE, &at) ? errno : 0;
		got[2] = ioctl(fz.v.fd, VFIO_NEST_INVALIDATE, &inv) ? errno : 0;
		got[3] = read(fz.v.fd, &f, sizeof(f)) < 0 ? errno : 0;
		got[4] = ioctl(fz.v.fd, VFIO_NEST_DETACH_TABLE, &dt) ? errno : 0;
		if (write(p[1], got, sizeof(got)) != sizeof(got))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], got, sizeof(got)) != sizeof(got)) {
		fail("fork child: %s", strerror(errno));
		close(p[0]);
		if (pid > 0)
			waitpid(pid, &st, 0);
		return;
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	want[0] = EPERM;
	want[1] = EPERM;
	want[2] = attached ? EPERM : ENOENT;
	want[3] = attached ? EPERM : EAGAIN;
	want[4] = attached ? EPERM : ENOENT;
	expect(K_FORK, got[0], eset_of(want[0]), "GET_INFO");
	expect(K_FORK, got[1], eset_of(want[1]), "ATTACH_TABLE");
	expect(K_FORK, got[2], eset_of(want[2]), "INVALIDATE");
	/* a record may be pending: read() only gets to the mm with one */
	expect(K_FORK, got[3], attached ? ESET(EPERM, EAGAIN) :
		eset_of(EAGAIN), "read");
	expect(K_FORK, got[4], eset_of(want[4]), "DETACH_TABLE");
	probe("after fork");
}

/*
 * The last reference of the file dies with a forked child: the module tears
 * the context down in our mm from a worker; nothing stays behind.
 */
static void op_fork_last_close(void)
{
	int p[2], st, ret;
	pid_t pid;
	char c = 0;

	trace("fork: the child holds the last reference (attached %d)",
	      fz.st.attached);
	if (pipe(p)) {
		fail("pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		_exit(0);	/* the file goes with the exit */
	}
	close(p[0]);
	ret = pid < 0 ? errno : close(fz.v.fd) ? errno : 0;
	fz.v.fd = -1;
	if (write(p[1], &c, 1) != 1 && !ret)
		ret = errno;
	close(p[1]);
	if (pid > 0 && waitpid(pid, &st, 0) != pid && !ret)
		ret = errno;
	expect(K_FORK, ret, eset_of(0), "last close in the child");
	fz.v.fd = open_vfio_nest();
	fz.st.attached = false;
	ret = xioctl(fz.v.fd, VFIO_NEST_GET_INFO, &(struct vfio_nest_info){
		.size = sizeof(struct vfio_nest_info),
		.iommufd = fz.v.edu.iommufd, .dev_id = fz.v.edu.dev_id });
	expect(K_INFO, ret, eset_of(0), "after the child's close");
	probe("after the child's last close");
}

static void op_fork(void)
{
	if (rng_pct(&fz.r, 30))
		op_fork_last_close();
	else
		op_fork_uses();
}

static void phase1(void)
{
	uint64_t end = now_ns() + (uint64_t)(fz.o.seconds * 1e9);
	uint64_t start = now_ns(), w, t;
	enum kind k;

	for (fz.op = 0; fz.op < fz.o.iters; fz.op++) {
		if (now_ns() > end) {
			ksft_print_msg("time bound of %.0f s reached at op %llu\n",
				       fz.o.seconds, fz.op);
			break;
		}
		fz.tracing = fz.o.trace_from >= 0 &&
			     fz.op >= (uint64_t)fz.o.trace_from;
		if (fz.op && fz.op % 2000 == 0)
			ksft_print_msg("op %llu, %llu ioctls, %.1f s\n",
				       fz.op, fz.ioctls,
				       (now_ns() - start) / 1e9);
		w = rng_below(&fz.r, 1000);
		t = now_ns();
		if (w < 80) {
			k = K_VERSION;
			op_version();
		} else if (w < 170) {
			k = K_INFO;
			op_info();
		} else if (w < 320) {
			k = K_ATTACH;
			op_attach();
		} else if (w < 370) {
			k = K_DETACH;
			op_detach();
		} else if (w < 660) {
			k = K_INVALIDATE;
			op_invalidate();
		} else if (w < 810) {
			k = K_BADNUM;
			op_badnum();
		} else if (w < 870) {
			k = K_READ;
			op_read();
		} else if (w < 910) {
			k = K_POLL;
			op_poll();
		} else if (w < 980) {
			k = K_OTHER;
			op_other();
		} else if (w < 982) {
			k = K_DMA;
			op_dma();
		} else if (w < 986) {
			k = K_REOPEN;
			op_reopen();
		} else if (w < 987) {
			k = K_FORK;
			op_fork();
		} else {
			k = K_VERSION;
			op_version();
		}
		/* the time of the op and the probes it ran */
		fz.ks[k].ns += now_ns() - t;
		if (fz.op % 64 == 63) {
			t = now_ns();
			probe("periodic");
			fz.ks[K_PROBE].ns += now_ns() - t;
		}
	}
	probe("end of phase 1");
}

/* ---------------------------------------------------------------------- */
/* Phase 2: threads racing on one file                                     */

#define RACE_PAGE	((void *)0x3f000000ull)
/* How much longer than --race-seconds phase 2 may run to reach --min-ioctls */
#define RACE_EXTRA_S	60

static struct race {
	volatile bool stop;
	int nest_slot, dev_slot, io_slot;	/* numbers all threads use */
	int dev_keep, io_keep, null_fd;
	int low_free;				/* the next fd number */
	uint64_t root;
} rc;

static void race_expect(enum kind k, int got, struct eset want,
			const char *what)
{
	bool ok = eset_has(&want, got);
	char ws[256];

	stats_add(&fz.race[k], got, ok);
	if (ok)
		return;
	eset_str(&want, ws, sizeof(ws));
	fail("race %s %s: got %s, expected %s", kind_names[k], what,
	     errname(got), ws);
}

static struct vfio_nest_attach_table race_attach_args(struct rng *r)
{
	struct vfio_nest_attach_table at = attach_args(&fz.v, 1 + rng_below(r, 255));

	at.device_fd = rc.dev_slot;
	at.iommufd = rc.io_slot;
	at.ttbr0 = rc.root;
	return at;
}

static void *race_attacher(void *arg)
{
	struct rng r = { fz.o.seed ^ 0xa77ac4 ^ (uintptr_t)arg };
	/* EBUSY: another context holds the device (the slot was replaced) */
	struct eset want = ESET(0, EBUSY, EBADF, ENODEV, EBADFD, ENOENT);
	struct eset torn = ESET(0, EBUSY, EBADF, ENODEV, EBADFD, ENOENT,
				EFAULT, EINVAL, EPROTONOSUPPORT, ERANGE);
	struct vfio_nest_attach_table at;
	int ret;

	while (!rc.stop) {
		at = race_attach_args(&r);
		if (rng_pct(&r, 20)) {
			/*
			 * The argument on the page another thread maps,
			 * fills and unmaps: absent, zero, half written or
			 * whole.
			 */
			ret = xioctl(rc.nest_slot, VFIO_NEST_ATTACH_TABLE,
				     RACE_PAGE);
			race_expect(K_ATTACH, ret, torn, "munmapped arg");
			continue;
		}
		ret = xioctl(rc.nest_slot, VFIO_NEST_ATTACH_TABLE, &at);
		race_expect(K_ATTACH, ret, want, "valid");
	}
	return NULL;
}

static void *race_invalidator(void *arg)
{
	static __thread struct vfio_nest_inv_entry e[512];
	struct rng r = { fz.o.seed ^ 0x1a7a11d ^ (uintptr_t)arg };
	struct eset want = ESET(0, ENOENT, EBADF);
	/* the page holds attach arguments (or nothing): odd entries */
	struct eset torn = ESET(0, ENOENT, EBADF, EFAULT, EINVAL, EOPNOTSUPP,
				ERANGE, EOVERFLOW);
	struct vfio_nest_invalidate inv = {
		.size = sizeof(inv), .entry_len = ENTRY_SIZE,
	};
	uint32_t i, n;
	int ret;

	while (!rc.stop) {
		n = 1 + rng_below(&r, rng_pct(&r, 10) ? 512 : 16);
		for (i = 0; i < n; i++) {
			memset(&e[i], 0, sizeof(e[i]));
			e[i].scope = rng_below(&r, 3);
			if (e[i].scope)
				e[i].asid = 1 + rng_below(&r, 255);
			if (e[i].scope == VFIO_NEST_INV_SCOPE_VA) {
				e[i].granule_shift = 12;
				e[i].iova = rng_below(&r, 1 << 20) << 12;
				e[i].nr_pages = 1 + rng_below(&r, 8);
			}
		}
		inv.device_fd = rc.dev_slot;
		inv.entry_num = n;
		inv.entries_uptr = (uintptr_t)e;
		if (rng_pct(&r, 20)) {
			inv.entries_uptr = (uintptr_t)RACE_PAGE;
			inv.entry_num = 1 + rng_below(&r, 80);
			ret = xioctl(rc.nest_slot, VFIO_NEST_INVALIDATE, &inv);
			race_expect(K_INVALIDATE, ret, torn, "munmapped entries");
			continue;
		}
		ret = xioctl(rc.nest_slot, VFIO_NEST_INVALIDATE, &inv);
		race_expect(K_INVALIDATE, ret, want, "valid entries");
	}
	return NULL;
}

static void *race_detacher(void *arg)
{
	struct rng r = { fz.o.seed ^ 0xde7ac4 ^ (uintptr_t)arg };
	struct eset want = ESET(0, ENOENT, EBADF);
	struct vfio_nest_detach_table dt = { .size = sizeof(dt) };
	int ret;

	while (!rc.stop) {
		usleep(rng_below(&r, 3000));
		dt.device_fd = rc.dev_slot;
		dt.flags = rng_pct(&r, 50) ? VFIO_NEST_DETACH_ABORT : 0;
		ret = xioctl(rc.nest_slot, VFIO_NEST_DETACH_TABLE, &dt);
		race_expect(K_DETACH, ret, want, "valid");
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct rng r = { fz.o.seed ^ 0x4ead ^ (uintptr_t)arg };
	struct vfio_nest_fault f[64];
	struct pollfd pfd = { .events = POLLIN };
	ssize_t n;
	int ret, i;

	while (!rc.stop) {
		if (rng_pct(&r, 40)) {
			pfd.fd = rc.nest_slot;
			ret = poll(&pfd, 1, rng_below(&r, 5));
			race_expect(K_POLL, ret < 0 ? errno : 0, eset_of(0),
				    "poll");
			/* POLLNVAL: the slot was closed meanwhile */
			if (ret > 0 && (pfd.revents & ~(POLLIN | POLLRDNORM |
							POLLNVAL)))
				fail("race poll: revents %#x", pfd.revents);
			continue;
		}
		n = read(rc.nest_slot, f, sizeof(f[0]) * (1 + rng_below(&r, 64)));
		race_expect(K_READ, n < 0 ? errno : 0,
			    ESET(0, EAGAIN, EBADF), "read");
		for (i = 0; n > 0 && i < n / (ssize_t)FAULT_SIZE; i++)
			if (!fault_ok(&f[i]))
				fail("race fault record: dev_id %u reason %u",
				     f[i].dev_id, f[i].reason);
	}
	return NULL;
}

static void *race_info(void *arg)
{
	struct vfio_nest_info info;
	struct vfio_nest_version ver;
	int ret;

	while (!rc.stop) {
		info = (struct vfio_nest_info){
			.size = sizeof(info), .iommufd = rc.io_slot,
			.dev_id = fz.v.edu.dev_id,
		};
		ret = xioctl(rc.nest_slot, VFIO_NEST_GET_INFO, &info);
		race_expect(K_INFO, ret, ESET(0, EBADF, EBADFD), "valid");
		ver = (struct vfio_nest_version){ .size = sizeof(ver) };
		ret = xioctl(rc.nest_slot, VFIO_NEST_GET_VERSION, &ver);
		race_expect(K_VERSION, ret, ESET(0, EBADF), "valid");
		usleep(200);
	}
	return NULL;
}

static void *race_dma(void *arg)
{
	int ret;

	while (!rc.stop) {
		ret = vfio_edu_dma_to_device(&fz.v.edu, VA_HOLE, 0, 8);
		race_expect(K_DMA, ret < 0 ? -ret : 0, eset_of(0), "fault");
	}
	return NULL;
}

/* The fd slots closed and dup2()ed under the other threads */
static void *race_slots(void *arg)
{
	struct rng r = { fz.o.seed ^ 0x5107 ^ (uintptr_t)arg };
	/*
	 * EBADF: iommufd installs each new vEVENTQ at the lowest free fd and
	 * ATTACH_TABLE takes it out again; a number we just opened or freed
	 * can be that one, and then it is gone from under us. EBUSY: dup2()
	 * onto a number another thread's open is installing at that moment
	 * (dup2(2): Linux returns EBUSY in that race).
	 */
	struct eset slot_set = ESET(0, EBADF, EBUSY);
	int nfd, ret;

	while (!rc.stop) {
		usleep(rng_below(&r, 20000));
		switch (rng_below(&r, 5)) {
		case 0:	/* a new context in the slot: the old one is released */
			nfd = open_vfio_nest();
			ret = nfd < 0 ? errno : dup2(nfd, rc.nest_slot) < 0 ?
						errno : 0;
			if (nfd >= 0)
				close(nfd);
			race_expect(K_SLOTS, ret, slot_set, "new context");
			break;
		case 1:	/* the device slot briefly holds /dev/null */
			ret = dup2(rc.null_fd, rc.dev_slot) < 0 ? errno : 0;
			usleep(rng_below(&r, 2000));
			ret = ret ?: dup2(rc.dev_keep, rc.dev_slot) < 0 ? errno : 0;
			race_expect(K_SLOTS, ret, slot_set, "device slot");
			break;
		case 2:	/* the iommufd slot briefly closed */
			ret = close(rc.io_slot) ? errno : 0;
			usleep(rng_below(&r, 2000));
			ret = ret ?: dup2(rc.io_keep, rc.io_slot) < 0 ? errno : 0;
			race_expect(K_SLOTS, ret, slot_set, "iommufd slot");
			break;
		case 3:	/* the device slot briefly closed */
			ret = close(rc.dev_slot) ? errno : 0;
			usleep(rng_below(&r, 2000));
			ret = ret ?: dup2(rc.dev_keep, rc.dev_slot) < 0 ? errno : 0;
			race_expect(K_SLOTS, ret, slot_set, "device slot closed");
			break;
		default:	/* the device slot swapped with the iommufd */
			ret = dup2(rc.io_keep, rc.dev_slot) < 0 ? errno : 0;
			usleep(rng_below(&r, 2000));
			ret = ret ?: dup2(rc.dev_keep, rc.dev_slot) < 0 ? errno : 0;
			race_expect(K_SLOTS, ret, slot_set, "device slot swap");
			break;
		}
	}
	return NULL;
}

/*
 * poll() on the fd numbers a new vEVENTQ can land on (iommufd installs it
 * at the lowest free one, ATTACH_TABLE takes it out again): a poll that
 * catches it holds the file while it waits.
 */
static void *race_fd_poller(void *arg)
{
	struct rng r = { fz.o.seed ^ 0xf0 ^ (uintptr_t)arg };
	int slots[3] = { rc.low_free, rc.dev_slot, rc.io_slot };
	struct pollfd p = { .events = POLLIN };
	int ret;

	while (!rc.stop) {
		p.fd = slots[rng_below(&r, 3)];
		ret = poll(&p, 1, 20 + rng_below(&r, 80));
		race_expect(K_POLL, ret < 0 ? errno : 0, eset_of(0),
			    "fd-number poll");
	}
	return NULL;
}

/* The argument page mapped and unmapped under the others */
static void *race_munmap(void *arg)
{
	struct rng r = { fz.o.seed ^ 0x3a9 ^ (uintptr_t)arg };
	struct vfio_nest_attach_table at;
	void *p;

	while (!rc.stop) {
		p = mmap(RACE_PAGE, fz.page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0);
		if (p == MAP_FAILED) {
			race_expect(K_MUNMAP, errno, ESET(0, EEXIST), "mmap");
			munmap(RACE_PAGE, fz.page);
			continue;
		}
		/* valid attach arguments, which are also zero entries */
		at = race_attach_args(&r);
		memcpy(p, &at, sizeof(at));
		usleep(rng_below(&r, 500));
		race_expect(K_MUNMAP, munmap(p, fz.page) ? errno : 0,
			    eset_of(0), "munmap");
		usleep(rng_below(&r, 500));
	}
	return NULL;
}

/*
 * After the race: once detached, nothing of the module may be left: no CD
 * page, no fd, no iommufd object.
 */
static int race_leftovers(void)
{
	struct vfio_nest_detach_table dt = {
		.size = sizeof(dt), .flags = VFIO_NEST_DETACH_ABORT,
		.device_fd = fz.v.edu.device_fd,
	};
	char ids[256];
	uint32_t id = 0;
	int ret, bad = 0;

	ret = xioctl(fz.v.fd, VFIO_NEST_DETACH_TABLE, &dt);
	if (ret && ret != ENOENT) {
		fail("race: DETACH_TABLE afterwards: %s", errname(ret));
		bad++;
	}
	fz.st.attached = false;
	if (count_shared_anon(fz.page)) {
		fail("race: a CD page is still mapped after DETACH_TABLE");
		bad++;
	}
	if (count_fds() != fz.base_fds) {
		fail("race: %d fds open, %d before", count_fds(), fz.base_fds);
		bad++;
	}
	ret = iommufd_next_id(fz.v.edu.iommufd, &id);
	if (ret || id != fz.base_next_id) {
		iommufd_objects(fz.v.edu.iommufd, 256, ids, sizeof(ids));
		fail("race: iommufd objects left: next id %u, was %u; ids %s",
		     id, fz.base_next_id, ids);
		ksft_print_msg("(ours: device %u, IOAS %u, stage 2 %u, paging %u)\n",
			       fz.v.edu.dev_id, fz.v.edu.ioas_id, fz.vmm_s2,
			       fz.paging);
		bad++;
	}
	return bad ? -EBUSY : 0;
}

static int phase2(void)
{
	void *(*const fns[])(void *) = {
		race_attacher, race_invalidator, race_detacher, race_reader,
		race_slots, race_munmap, race_dma, race_info, race_fd_poller,
	};
	const char *const names[] = {
		"attach", "invalidate", "detach", "read/poll", "close/dup2",
		"munmap", "edu-dma", "get-info", "fd-number-poll",
	};
	unsigned int nfn = ARRAY_SIZE(fns), i, n = fz.o.threads;
	pthread_t t[64];
	char list[512];
	size_t off = 0;

	if (n > 64)
		n = 64;
	rc.nest_slot = fz.v.fd;
	rc.dev_slot = fz.v.edu.device_fd;
	rc.io_slot = fz.v.edu.iommufd;
	rc.dev_keep = dup(rc.dev_slot);
	rc.io_keep = dup(rc.io_slot);
	rc.null_fd = open("/dev/null", O_RDWR);
	rc.root = fz.v.g.root;
	rc.stop = false;
	if (rc.dev_keep < 0 || rc.io_keep < 0 || rc.null_fd < 0)
		return -errno;
	rc.low_free = dup(0);
	close(rc.low_free);
	list[0] = 0;
	for (i = 0; i < n; i++) {
		if (pthread_create(&t[i], NULL, fns[i % nfn],
				   (void *)(uintptr_t)i))
			return -errno;
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
				i ? ", " : "", names[i % nfn]);
	}
	ksft_print_msg("race: %u threads (%s) for %.0f s on one file\n", n,
		       list, fz.o.race_seconds);
	usleep((useconds_t)(fz.o.race_seconds * 1e6));
	for (i = 0; i < RACE_EXTRA_S * 10 && fz.p1_ioctls +
	     __atomic_load_n(&fz.ioctls, __ATOMIC_RELAXED) < fz.o.min_ioctls; i++)
		usleep(100000);
	rc.stop = true;
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);

	/* Everything back in its slot */
	munmap(RACE_PAGE, fz.page);
	if (dup2(rc.dev_keep, rc.dev_slot) < 0 ||
	    dup2(rc.io_keep, rc.io_slot) < 0)
		return -errno;
	close(rc.dev_keep);
	close(rc.io_keep);
	close(rc.null_fd);
	return race_leftovers();
}

/* ---------------------------------------------------------------------- */

static int final_checks(void)
{
	struct vmm *v = &fz.v;
	uint32_t num = 1;
	struct vfio_nest_inv_entry e = { .scope = VFIO_NEST_INV_SCOPE_ALL };
	int ret, fails = 0, i;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			ksft_print_msg("final: " __VA_ARGS__);		\
			fails++;					\
		}							\
	} while (0)

	ret = detach_table(v, VFIO_NEST_DETACH_ABORT);
	CHECK(!ret || errno == ENOENT, "DETACH_TABLE: %s\n", strerror(errno));
	fz.st.attached = false;
	CHECK(count_shared_anon(fz.page) == 0, "a CD page is still mapped\n");
	CHECK(count_fds() == fz.base_fds, "%d fds open, %d expected\n",
	      count_fds(), fz.base_fds);

	CHECK(guest_reset(v) == 0, "guest tables\n");
	ret = attach_table(v, ASID);
	CHECK(ret == 0, "ATTACH_TABLE (IOAS form): %s\n", strerror(errno));
	ret = dma_round_trip(v, 0x3c);
	CHECK(ret == 0, "DMA round trip (IOAS form): %s\n", strerror(-ret));
	ret = invalidate(v, &e, &num);
	CHECK(ret == 0 && num == 1, "INVALIDATE ALL: %s\n", strerror(errno));
	ret = dma_round_trip(v, 0x3d);
	CHECK(ret == 0, "DMA after INVALIDATE: %s\n", strerror(-ret));
	ret = detach_table(v, 0);
	CHECK(ret == 0, "DETACH_TABLE: %s\n", strerror(errno));
	ret = attach_table_hwpt(v, ASID + 1, fz.vmm_s2);
	CHECK(ret == 0, "ATTACH_TABLE (HWPT form): %s\n", strerror(errno));
	ret = dma_round_trip(v, 0x3e);
	CHECK(ret == 0, "DMA round trip (HWPT form): %s\n", strerror(-ret));
	ret = detach_table(v, VFIO_NEST_DETACH_ABORT);
	CHECK(ret == 0, "DETACH_TABLE ABORT: %s\n", strerror(errno));

	/* Nothing of the module left in the iommufd or the process */
	CHECK(count_shared_anon(fz.page) == 0, "a CD page is still mapped\n");
	ret = vfio_edu_destroy(&v->edu, fz.vmm_s2);
	CHECK(ret == 0, "destroy the VMM's stage 2: %s\n", strerror(-ret));
	ret = vfio_edu_destroy(&v->edu, fz.paging);
	CHECK(ret == 0, "destroy the paging HWPT: %s\n", strerror(-ret));
	ret = vfio_edu_destroy(&v->edu, v->edu.ioas_id);
	if (ret) {
		char ids[256];

		iommufd_objects(v->edu.iommufd, 256, ids, sizeof(ids));
		CHECK(0, "destroy the IOAS: %s; objects left: %s (device %u, IOAS %u)\n",
		      strerror(-ret), ids, v->edu.dev_id, v->edu.ioas_id);
	}
	ret = close(v->fd);
	v->fd = -1;
	CHECK(ret == 0, "close /dev/vfio-nest\n");
	/* every other reference of the device and iommufd files, too */
	for (i = 0; i < fz.nfds; i++)
		if (fz.fds[i].fd >= 0 && fz.fds[i].fd != v->edu.device_fd &&
		    fz.fds[i].fd != v->edu.iommufd && fz.fds[i].fd != 1000 &&
		    fz.fds[i].fd != INT_MAX)
			close(fz.fds[i].fd);
	vmm_teardown(v);

	/* A fresh VMM */
	ret = vmm_setup(v);
	CHECK(ret == 0, "vmm_setup again: %s\n", strerror(-ret));
	if (!ret) {
		ret = attach_table(v, ASID);
		CHECK(ret == 0, "fresh ATTACH_TABLE: %s\n", strerror(errno));
		ret = dma_round_trip(v, 0x3f);
		CHECK(ret == 0, "fresh DMA round trip: %s\n", strerror(-ret));
	}
	vmm_teardown(v);
#undef CHECK
	return fails;
}

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--seed S] [--iters N] [--seconds T] [--race-seconds R]\n"
		"          [--min-ioctls M] [--threads N] [--trace-from K]\n", prog);
	exit(KSFT_FAIL);
}

static void parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "race-seconds", required_argument, NULL, 'r' },
		{ "min-ioctls", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'j' },
		{ "trace-from", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool seeded = false;
	int c;

	fz.o.iters = 15000;
	fz.o.seconds = 40;
	fz.o.race_seconds = 10;
	fz.o.threads = 9;
	fz.o.trace_from = -1;
	while ((c = getopt_long(argc, argv, "s:n:t:r:m:j:x:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			fz.o.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'n':
			fz.o.iters = strtoull(optarg, NULL, 0);
			break;
		case 't':
			fz.o.seconds = strtod(optarg, NULL);
			break;
		case 'r':
			fz.o.race_seconds = strtod(optarg, NULL);
			break;
		case 'm':
			fz.o.min_ioctls = strtoull(optarg, NULL, 0);
			break;
		case 'j':
			fz.o.threads = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			fz.o.trace_from = strtoll(optarg, NULL, 0);
			break;
		default:
			print_usage(argv[0]);
		}
	}
	if (!fz.o.iters)
		fz.o.iters = ULLONG_MAX;	/* the time bound alone */
	if (!seeded) {
		struct rng r = { now_ns() ^ ((uint64_t)getpid() << 32) };

		fz.o.seed = rng_next(&r) % 1000000000000ull;
	}
}

int main(int argc, char **argv)
{
	uint64_t t0, t1, t2;
	int ret, i, fails;

	parse(argc, argv);
	/* First, so that a crash still leaves the seed on the console. */
	printf("# host_fuzz_test: seed %llu iters %llu seconds %.0f",
	       fz.o.seed, fz.o.iters, fz.o.seconds);
	printf(" race-seconds %.0f min-ioctls %llu threads %u\n",
	       fz.o.race_seconds, fz.o.min_ioctls, fz.o.threads);
	fflush(stdout);
	ksft_print_header();
	ksft_set_plan(3);
	fz.r.s = fz.o.seed;
	for (i = 0; i < NK; i++) {
		fz.ks[i].name = kind_names[i];
		fz.race[i].name = kind_names[i];
	}

	ret = vmm_setup(&fz.v);
	if (skip_reason(ret)) {
		vmm_teardown(&fz.v);
		ksft_test_result_skip("uapi_sequence: %s\n", skip_reason(ret));
		ksft_test_result_skip("racing_threads: %s\n", skip_reason(ret));
		ksft_test_result_skip("device_works_after: %s\n",
				      skip_reason(ret));
		ksft_finished();
	}
	if (ret)
		ksft_exit_fail_msg("vmm_setup: %s\n", strerror(-ret));

	fz.page = fz.v.info.out_host_window;
	fz.caps = (struct arm_lpae_caps){
		.granules = fz.v.info.out_granules,
		.ias = fz.v.info.out_ias,
		.oas = fz.v.info.out_oas,
		.asid_bits = fz.v.info.out_asid_bits,
		.flags = (fz.v.info.out_caps & VFIO_NEST_CAP_HW_ACCESS ?
			  ARM_LPAE_CAP_HA : 0) |
			 (fz.v.info.out_caps & VFIO_NEST_CAP_HW_DIRTY ?
			  ARM_LPAE_CAP_HD : 0) |
			 (fz.v.info.out_caps & VFIO_NEST_CAP_RANGE_INV ?
			  ARM_LPAE_CAP_RIL : 0),
	};
	if (vfio_edu_hwpt_alloc(&fz.v.edu, fz.v.edu.ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT, &fz.vmm_s2) ||
	    vfio_edu_hwpt_alloc(&fz.v.edu, fz.v.edu.ioas_id, 0, &fz.paging))
		ksft_exit_fail_msg("HWPT alloc: %s\n", strerror(errno));

	fz.arg = mmap(NULL, (ARG_PAGES + 1) * fz.page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fz.ro = mmap(NULL, fz.page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	fz.none = mmap(NULL, fz.page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	fz.ents_len = ENT_BYTES;
	fz.ents = mmap(NULL, fz.ents_len + fz.page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fz.arg == MAP_FAILED || fz.ro == MAP_FAILED ||
	    fz.none == MAP_FAILED || fz.ents == MAP_FAILED ||
	    mprotect(fz.arg + ARG_PAGES * fz.page, fz.page, PROT_NONE) ||
	    mprotect(fz.ents + fz.ents_len, fz.page, PROT_NONE))
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	setup_fds();

	ksft_print_msg("SMMU: granules %#x ias %u oas %u asid bits %u caps %#x; %d fd kinds\n",
		       fz.caps.granules, fz.caps.ias, fz.caps.oas,
		       fz.caps.asid_bits, fz.v.info.out_caps, fz.nfds);
	fz.base_fds = count_fds();
	if (iommufd_next_id(fz.v.edu.iommufd, &fz.base_next_id))
		ksft_exit_fail_msg("IOAS alloc: %s\n", strerror(errno));

	t0 = now_ns();
	phase1();
	t1 = now_ns();
	stats_print("phase 1 (deterministic): results by kind", fz.ks, NK);
	ksft_print_msg("phase 1: seed %llu, %llu ops, %llu ioctls in %.1f s\n",
		       fz.o.seed, fz.op, fz.ioctls, (t1 - t0) / 1e9);
	fails = fz.failures;
	ksft_test_result(!fails, "uapi_sequence (seed %llu, %llu ops)\n",
			 fz.o.seed, fz.op);

	fz.op = ULLONG_MAX;
	fz.p1_ioctls = fz.ioctls;
	fz.ioctls = 0;
	if (fz.o.threads && fz.o.race_seconds > 0) {
		ret = phase2();
		t2 = now_ns();
		stats_print("phase 2 (racing threads): results by kind",
			    fz.race, NK);
		ksft_print_msg("phase 2: %u threads, %llu ioctls in %.1f s\n",
			       fz.o.threads, fz.ioctls, (t2 - t1) / 1e9);
		if (ret)
			ksft_print_msg("race: %s\n", strerror(-ret));
		if (fz.p1_ioctls + fz.ioctls < fz.o.min_ioctls) {
			ksft_print_msg("%llu ioctls in all, fewer than --min-ioctls %llu\n",
				       fz.p1_ioctls + fz.ioctls, fz.o.min_ioctls);
			ret = -ETIME;
		}
		ksft_test_result(!ret && fz.failures == (unsigned long long)fails,
				 "racing_threads (%u threads)\n", fz.o.threads);
	} else {
		ksft_test_result_skip("racing_threads: disabled\n");
	}

	ret = final_checks();
	ksft_test_result(!ret, "device_works_after\n");
	ksft_print_msg("seed %llu: %llu unexpected result(s); total %.1f s\n",
		       fz.o.seed, fz.failures, (now_ns() - t0) / 1e9);
	ksft_finished();
}
