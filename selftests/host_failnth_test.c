// SPDX-License-Identifier: GPL-2.0
/*
 * host_failnth_test: fail every allocation of the /dev/vfio-nest paths, one
 * at a time, with /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION with
 * FAILSLAB and FAIL_PAGE_ALLOC, configured through debugfs so that
 * GFP_KERNEL allocations may fail and nothing is logged).
 *
 *   host_failnth_test [--max-n N] [--seconds T] [--only NAME] [--trace-nth N]
 *
 * (--trace-nth N: the N-th injection logs its stack in dmesg, to name the
 * allocation; the kernel's "Call trace" then turns the VM run red.)
 *
 * For each call (first ATTACH_TABLE in both stage-2 forms, re-attach, the
 * first INVALIDATE of a file, INVALIDATE, GET_INFO on a fresh and on a used
 * file, DETACH_TABLE in both forms, read() with and without a fault record
 * pending, close() while attached) and N = 1, 2, ...: the precondition is
 * set up without injection, N is written to fail-nth, the call made, and
 * fail-nth read back (0: the N-th allocation was failed). The call must
 * then either succeed or fail with an errno and leave nothing behind: the
 * attachment as before, no CD page mapped that should not be, no fd added,
 * no iommufd object left (the next object id is the same once detached);
 * and the same call without injection must work. The loop ends when the
 * call succeeds without having consumed the injection: N - 1 is the number
 * of allocations on that path. Every 16th N, and at the end of each call's
 * loop, edu DMA through the table must work.
 *
 * Skips when the kernel has no fail-nth (no CONFIG_FAULT_INJECTION) or its
 * debugfs knobs are missing.
 */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "host_fuzz_util.h"
#include "test_util.h"

#define ENTRY_SIZE	sizeof(struct vfio_nest_inv_entry)

static struct {
	struct vmm v;
	int fnth;		/* /proc/thread-self/fail-nth */
	uint32_t vmm_s2;
	uint64_t root2;		/* a second table for re-attaches */
	uint64_t page;
	int base_fds;
	uint32_t base_next_id;
	unsigned int max_n;
	double seconds;
	const char *only;
	unsigned int trace_nth;	/* the injection that logs its stack */
	uint64_t deadline;
} ft;

struct result {
	unsigned int sites;	/* allocations on the path (N - 1 at the end) */
	unsigned int injected;	/* calls that failed with an injection */
	unsigned int absorbed;	/* calls that succeeded despite one */
	unsigned int problems;
	bool complete;
	unsigned long long errnos[RES_MAX];
};

static void problem(struct result *res, unsigned int n, const char *name,
		    const char *fmt, ...) __printf(4, 5);
static void problem(struct result *res, unsigned int n, const char *name,
		    const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (res->problems++ < 10)
		ksft_print_msg("%s, fail-nth %u: %s\n", name, n, buf);
}

static int inject(unsigned int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%u", n);

	return pwrite(ft.fnth, b, len, 0) == len ? 0 : -errno;
}

/* What is left of the last injection: 0 once it happened */
static unsigned int injection_left(void)
{
	char b[16] = { 0 };

	if (pread(ft.fnth, b, sizeof(b) - 1, 0) <= 0)
		return UINT32_MAX;
	return strtoul(b, NULL, 0);
}

/* debugfs verbose of both fault attributes: 2 logs a stack trace */
static void fault_verbose(const char *level)
{
	write_str("/sys/kernel/debug/failslab/verbose", level);
	write_str("/sys/kernel/debug/fail_page_alloc/verbose", level);
}

static int xerr(int ret)
{
	return ret ? errno : 0;
}

/* -------------------------------------------------------------------- */
/* Building blocks, all without injection                                */

static int ensure_detached(void)
{
	int ret = detach_table(&ft.v, VFIO_NEST_DETACH_ABORT);

	return ret && errno != ENOENT ? -errno : 0;
}

static int ensure_attached(void)
{
	if (!invalidate(&ft.v, NULL, &(uint32_t){ 0 }))
		return 0;
	return attach_table(&ft.v, ASID) ? -errno : 0;
}

/* A new /dev/vfio-nest file, bound to our mm (GET_INFO) if @use */
static int reopen(bool use)
{
	struct vfio_nest_info info = {
		.size = sizeof(info), .iommufd = ft.v.edu.iommufd,
		.dev_id = ft.v.edu.dev_id,
	};

	if (ft.v.fd >= 0)
		close(ft.v.fd);
	ft.v.fd = open_vfio_nest();
	if (ft.v.fd < 0)
		return -errno;
	if (use && ioctl(ft.v.fd, VFIO_NEST_GET_INFO, &info))
		return -errno;
	return 0;
}

static bool is_attached(void)
{
	uint32_t num = 0;

	return !invalidate(&ft.v, NULL, &num);
}

static int one_invalidate(uint32_t n)
{
	static struct vfio_nest_inv_entry e[256];
	uint32_t i, num = n;

	for (i = 0; i < n; i++) {
		e[i] = (struct vfio_nest_inv_entry){
			.scope = VFIO_NEST_INV_SCOPE_VA, .asid = ASID,
			.granule_shift = 12, .iova = VA_DST + (i % 4) * 0x2000ull,
			.nr_pages = 1 + i % 3,
		};
		if (i % 17 == 16)
			e[i] = (struct vfio_nest_inv_entry){
				.scope = VFIO_NEST_INV_SCOPE_ASID,
				.asid = ASID, .flags = VFIO_NEST_INV_CONFIG,
			};
	}
	if (invalidate(&ft.v, e, &num))
		return errno;
	return num == n ? 0 : EIO;
}

/* A pending fault record: edu reads from a hole of the table */
static int make_fault(void)
{
	struct pollfd pfd = { .fd = ft.v.fd, .events = POLLIN };

	if (vfio_edu_dma_to_device(&ft.v.edu, VA_HOLE, 0, 4))
		return -EIO;
	return poll(&pfd, 1, 3000) == 1 ? 0 : -ETIMEDOUT;
}

/* -------------------------------------------------------------------- */
/* The calls under test                                                   */

struct fcall {
	const char *name;
	int (*prepare)(void);		/* the precondition, no injection */
	int (*call)(void);		/* 0 or a positive errno */
	int (*undo)(void);		/* after success, toward the next round */
	bool attached_after_failure;	/* what a refused call leaves */
	bool fresh_file;		/* the call runs on a new file */
};

static int prep_detached(void)
{
	return ensure_detached();
}

static int call_attach(void)
{
	return xerr(attach_table(&ft.v, ASID));
}

static int call_attach_hwpt(void)
{
	return xerr(attach_table_hwpt(&ft.v, ASID, ft.vmm_s2));
}

static int undo_detach(void)
{
	return detach_table(&ft.v, VFIO_NEST_DETACH_ABORT) ? -errno : 0;
}

static int prep_attached(void)
{
	int ret = ensure_attached();

	/* the table of ASID, so that the call switches to root2/ASID + 1 */
	if (!ret && attach_table(&ft.v, ASID))
		ret = -errno;
	return ret;
}

static int call_reattach(void)
{
	struct vfio_nest_attach_table at = attach_args(&ft.v, ASID + 1);

	at.ttbr0 = ft.root2;
	return xerr(ioctl(ft.v.fd, VFIO_NEST_ATTACH_TABLE, &at));
}

static int undo_none(void)
{
	return 0;
}

static int prep_fresh_attached(void)
{
	int ret = reopen(true);

	return ret ?: ensure_attached();
}

static int call_invalidate_1(void)
{
	return one_invalidate(1);
}

static int prep_attached_used(void)
{
	int ret = ensure_attached();

	return ret ?: -one_invalidate(3);
}

static int call_invalidate_200(void)
{
	return one_invalidate(200);
}

static int prep_fresh(void)
{
	return reopen(false);
}

static int call_get_info(void)
{
	struct vfio_nest_info info = {
		.size = sizeof(info), .iommufd = ft.v.edu.iommufd,
		.dev_id = ft.v.edu.dev_id,
	};

	return xerr(ioctl(ft.v.fd, VFIO_NEST_GET_INFO, &info));
}

static int call_detach(void)
{
	return xerr(detach_table(&ft.v, 0));
}

static int call_detach_abort(void)
{
	return xerr(detach_table(&ft.v, VFIO_NEST_DETACH_ABORT));
}

static int call_read(void)
{
	struct vfio_nest_fault f[8];
	ssize_t n = read(ft.v.fd, f, sizeof(f));

	/* Nothing pending is a successful read. */
	return n < 0 && errno != EAGAIN ? errno : 0;
}

static int prep_fault_pending(void)
{
	int ret = ensure_attached();

	return ret ?: make_fault();
}

static int prep_fresh_attached_hwpt(void)
{
	int ret = reopen(true);

	if (!ret && attach_table_hwpt(&ft.v, ASID, ft.vmm_s2))
		ret = -errno;
	return ret;
}

/* close() cannot fail: what it leaves behind is the check */
static int call_close(void)
{
	int ret = close(ft.v.fd) ? errno : 0;

	ft.v.fd = -1;
	return ret;
}

static int undo_reopen(void)
{
	return reopen(true);
}

#define CALL(_name, _prep, _call, _undo, _att, _fresh)			\
	{ .name = _name, .prepare = _prep, .call = _call, .undo = _undo, \
	  .attached_after_failure = _att, .fresh_file = _fresh }

static const struct fcall calls[] = {
	CALL("attach_first", prep_detached, call_attach, undo_detach, false,
	     false),
	CALL("attach_first_s2_hwpt", prep_detached, call_attach_hwpt,
	     undo_detach, false, false),
	CALL("attach_again", prep_attached, call_reattach, undo_none, true,
	     false),
	CALL("invalidate_first", prep_fresh_attached, call_invalidate_1,
	     undo_none, true, true),
	CALL("invalidate", prep_attached_used, call_invalidate_200, undo_none,
	     true, false),
	CALL("get_info_fresh_file", prep_fresh, call_get_info, undo_none,
	     false, true),
	CALL("get_info", prep_detached, call_get_info, undo_none, false,
	     false),
	CALL("detach", prep_attached, call_detach, undo_none, true, false),
	CALL("detach_abort", prep_fresh_attached_hwpt, call_detach_abort,
	     undo_none, true, true),
	CALL("read_nothing_pending", prep_attached, call_read, undo_none,
	     true, false),
	CALL("read_fault_pending", prep_fault_pending, call_read, undo_none,
	     true, false),
	CALL("close_attached", prep_fresh_attached, call_close, undo_reopen,
	     false, true),
};

#define NCALLS ARRAY_SIZE(calls)

/*
 * After a call: the attachment as @attached says, one CD page while
 * attached, the fd table as at the start; once detached, no iommufd
 * object left.
 */
static void check_clean(struct result *res, const struct fcall *c,
			unsigned int n, bool attached, const char *when)
{
	uint32_t id = 0;
	int cd, fds;

	if (ft.v.fd >= 0 && is_attached() != attached)
		problem(res, n, c->name, "%s: attached %d, expected %d", when,
			!attached, attached);
	cd = count_shared_anon(ft.page);
	if (ft.v.fd >= 0 && cd != (attached ? 1 : 0))
		problem(res, n, c->name, "%s: %d CD pages mapped (attached %d)",
			when, cd, attached);
	fds = count_fds();
	if (fds != ft.base_fds)
		problem(res, n, c->name, "%s: %d fds open, %d before", when,
			fds, ft.base_fds);
	if (ft.v.fd < 0 && cd)
		problem(res, n, c->name, "%s: %d CD pages mapped after close",
			when, cd);
	if (ft.v.fd >= 0 && ensure_detached())
		problem(res, n, c->name, "%s: DETACH_TABLE: %s", when,
			strerror(errno));
	if (count_shared_anon(ft.page))
		problem(res, n, c->name, "%s: CD page mapped after detach",
			when);
	if (iommufd_next_id(ft.v.edu.iommufd, &id) || id != ft.base_next_id)
		problem(res, n, c->name,
			"%s: next iommufd object id %u, %u before: an object left behind",
			when, id, ft.base_next_id);
}

/*
 * A refused re-attach must leave the old table in force: edu writes through
 * VA_DST, which is p_dst in the old table and p_b in the new one.
 */
static void check_old_table(struct result *res, const struct fcall *c,
			    unsigned int n, int err)
{
	memset(guest_bytes(&ft.v.g, ft.v.p_dst), 0, XFER);
	memset(guest_bytes(&ft.v.g, ft.v.p_b), 0, XFER);
	if (load_device(&ft.v, 0x6d) ||
	    vfio_edu_dma_to_ram(&ft.v.edu, 0, VA_DST, XFER)) {
		problem(res, n, c->name, "refused with %s: edu DMA failed",
			errname(err));
		return;
	}
	if (holds(&ft.v, ft.v.p_b, 0x6d))
		problem(res, n, c->name,
			"refused with %s, yet the new table is in force",
			errname(err));
	else if (!holds(&ft.v, ft.v.p_dst, 0x6d))
		problem(res, n, c->name,
			"refused with %s: the old table no longer translates",
			errname(err));
}

static int dma_check(void)
{
	int ret;

	if (ft.v.fd < 0 && reopen(true))
		return -errno;
	ret = ensure_attached();
	if (!ret && attach_table(&ft.v, ASID))
		ret = -errno;
	return ret ?: dma_round_trip(&ft.v, 0x5e);
}

static void run_call(const struct fcall *c, struct result *res)
{
	unsigned int n, left;
	int ret, again;

	memset(res, 0, sizeof(*res));
	for (n = 1; n <= ft.max_n; n++) {
		if (now_ns() > ft.deadline) {
			ksft_print_msg("%s: time budget spent at fail-nth %u\n",
				       c->name, n);
			return;
		}
		ret = c->prepare();
		if (ret) {
			problem(res, n, c->name, "precondition: %s",
				strerror(-ret));
			return;
		}
		if (n == ft.trace_nth)
			fault_verbose("2");
		if (inject(n)) {
			problem(res, n, c->name, "fail-nth: %s",
				strerror(errno));
			return;
		}
		ret = c->call();
		left = injection_left();
		inject(0);
		if (n == ft.trace_nth)
			fault_verbose("0");

		if (left) {
			/* the call made fewer than n allocations */
			if (ret)
				problem(res, n, c->name,
					"failed with %s without an injected failure",
					errname(ret));
			res->sites = n - 1;
			res->complete = true;
			if (c->call == call_close && ft.v.fd < 0)
				ret = reopen(true);
			check_clean(res, c, n, ft.v.fd >= 0 && is_attached(),
				    "end");
			ret = dma_check();
			if (ret)
				problem(res, n, c->name,
					"DMA round trip at the end: %s",
					strerror(-ret));
			ensure_detached();
			return;
		}
		if (!ret) {
			res->absorbed++;
			res->errnos[0]++;
		} else {
			res->injected++;
			if (ret < RES_MAX)
				res->errnos[ret]++;
			if (ret != ENOMEM && ret != EFAULT)
				ksft_print_msg("%s, fail-nth %u: %s\n",
					       c->name, n, errname(ret));
			if (c->call != call_close && ft.v.fd >= 0 &&
			    is_attached() != c->attached_after_failure)
				problem(res, n, c->name,
					"refused with %s, attached %d after it",
					errname(ret), !c->attached_after_failure);
			if (c->call == call_reattach)
				check_old_table(res, c, n, ret);
			/* the same call without injection works */
			if (c->fresh_file && c->call != call_close) {
				again = c->prepare();
				if (again)
					problem(res, n, c->name,
						"precondition again: %s",
						strerror(-again));
			}
			again = c->call();
			if (again)
				problem(res, n, c->name,
					"refused with %s, then again with %s without injection",
					errname(ret), errname(again));
		}
		ret = c->undo();
		if (ret)
			problem(res, n, c->name, "undo: %s", strerror(-ret));
		check_clean(res, c, n, ft.v.fd >= 0 && is_attached(),
			    "after the call");
		if (n % 16 == 0) {
			ret = dma_check();
			if (ret)
				problem(res, n, c->name, "DMA round trip: %s",
					strerror(-ret));
			ensure_detached();
		}
	}
	ksft_print_msg("%s: still allocating at fail-nth %u\n", c->name,
		       ft.max_n);
}

/* debugfs: let GFP_KERNEL allocations fail, of every order, silently */
static int setup_fault_attrs(char *why, size_t len)
{
	static const char *const attrs[] = { "failslab", "fail_page_alloc" };
	char path[256];
	unsigned int i, found = 0;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s", attrs[i]);
		if (!path_exists(path))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/%s/ignore-gfp-wait", attrs[i]);
		if (write_str(path, "N"))
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/verbose",
			 attrs[i]);
		write_str(path, "0");
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/min-order",
			 attrs[i]);
		if (path_exists(path))
			write_str(path, "0");
		found++;
	}
	/* Whatever else fail-nth reaches must not print stacks either. */
	run_cmd("for f in /sys/kernel/debug/fail*/verbose; do [ -w $f ] && echo 0 > $f; done");
	if (!found)
		snprintf(why, len, "%s",
			 "no failslab/fail_page_alloc knobs in debugfs");
	return found ? 0 : -ENOENT;
}

static void skip_all(const char *why)
{
	unsigned int i;

	for (i = 0; i < NCALLS; i++)
		ksft_test_result_skip("%s: %s\n", calls[i].name, why);
	ksft_finished();
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "max-n", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'o' },
		{ "trace-nth", required_argument, NULL, 'x' },
		{ 0 }
	};
	struct result res[NCALLS];
	char why[256], line[512];
	unsigned int i;
	size_t off;
	int ret, e, c;

	ft.max_n = 2000;
	ft.seconds = 480;
	while ((c = getopt_long(argc, argv, "n:t:o:x:", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			ft.max_n = strtoul(optarg, NULL, 0);
			break;
		case 't':
			ft.seconds = strtod(optarg, NULL);
			break;
		case 'o':
			ft.only = optarg;
			break;
		case 'x':
			ft.trace_nth = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [--max-n N] [--seconds T] %s\n",
				argv[0], "[--only NAME] [--trace-nth N]");
			return KSFT_FAIL;
		}
	}
	ksft_print_header();
	ksft_set_plan(NCALLS);
	ft.v.fd = -1;

	if (access("/proc/self/fail-nth", F_OK))
		skip_all("no /proc/self/fail-nth: kernel without CONFIG_FAULT_INJECTION");
	if (setup_fault_attrs(why, sizeof(why)))
		skip_all(why);
	ret = vmm_setup(&ft.v);
	if (skip_reason(ret)) {
		vmm_teardown(&ft.v);
		skip_all(skip_reason(ret));
	}
	if (ret)
		ksft_exit_fail_msg("vmm_setup: %s\n", strerror(-ret));
	ft.page = ft.v.info.out_host_window;
	if (vfio_edu_hwpt_alloc(&ft.v.edu, ft.v.edu.ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT, &ft.vmm_s2))
		ksft_exit_fail_msg("HWPT alloc: %s\n", strerror(errno));
	/* A second table: VA_SRC to the same page, VA_DST to p_b */
	ft.root2 = guest_alloc_page(&ft.v.g);
	{
		uint64_t root1 = ft.v.g.root;

		ft.v.g.root = ft.root2;
		if (!ft.root2 || guest_map(&ft.v.g, VA_SRC, ft.v.p_src) ||
		    guest_map(&ft.v.g, VA_DST, ft.v.p_b))
			ksft_exit_fail_msg("second table\n");
		ft.v.g.root = root1;
	}
	/* Our own page faults must not take the injections. */
	if (mlockall(MCL_CURRENT))
		ksft_print_msg("mlockall: %s\n", strerror(errno));
	ft.fnth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (ft.fnth < 0)
		ksft_exit_fail_msg("/proc/thread-self/fail-nth: %s\n",
				   strerror(errno));
	ft.base_fds = count_fds();
	if (iommufd_next_id(ft.v.edu.iommufd, &ft.base_next_id))
		ksft_exit_fail_msg("IOAS alloc: %s\n", strerror(errno));
	ft.deadline = now_ns() + (uint64_t)(ft.seconds * 1e9);

	for (i = 0; i < NCALLS; i++) {
		uint64_t t = now_ns();

		if (ft.only && strcmp(ft.only, calls[i].name)) {
			ksft_test_result_skip("%s: not selected\n",
					      calls[i].name);
			continue;
		}
		run_call(&calls[i], &res[i]);
		off = snprintf(line, sizeof(line),
			       "%-22s %4u allocation sites%s, %u refused, %u absorbed:",
			       calls[i].name, res[i].sites,
			       res[i].complete ? "" : " (incomplete)",
			       res[i].injected, res[i].absorbed);
		for (e = 1; e < RES_MAX && off + 1 < sizeof(line); e++)
			if (res[i].errnos[e])
				off += snprintf(line + off, sizeof(line) - off,
						" %s=%llu", errname(e),
						res[i].errnos[e]);
		ksft_print_msg("%s (%.1f s)\n", line, (now_ns() - t) / 1e9);
		ksft_test_result(res[i].complete && !res[i].problems,
				 "%s (%u sites)\n", calls[i].name,
				 res[i].sites);
	}

	ksft_print_msg("matrix: call -> allocation sites hit, errnos of the refused calls\n");
	for (i = 0; i < NCALLS; i++) {
		if (ft.only && strcmp(ft.only, calls[i].name))
			continue;
		off = snprintf(line, sizeof(line), "  %-22s %4u", calls[i].name,
			       res[i].sites);
		for (e = 1; e < RES_MAX && off + 1 < sizeof(line); e++)
			if (res[i].errnos[e])
				off += snprintf(line + off, sizeof(line) - off,
						" %s", errname(e));
		if (res[i].absorbed)
			snprintf(line + off, sizeof(line) - off,
				 " (+%u absorbed)", res[i].absorbed);
		ksft_print_msg("%s\n", line);
	}
	inject(0);
	close(ft.fnth);
	if (ft.v.fd >= 0)
		ensure_detached();
	vfio_edu_destroy(&ft.v.edu, ft.vmm_s2);
	vmm_teardown(&ft.v);
	ksft_finished();
}
