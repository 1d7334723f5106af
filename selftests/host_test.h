/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host_test.h: helpers shared by the host_* selftests of /dev/vfio-nest
 * (kselftest_harness.h must be included first).
 */
#ifndef _SELFTESTS_HOST_TEST_H
#define _SELFTESTS_HOST_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "vfio_nest.h"

#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))
#define offsetofend(TYPE, MEMBER) \
	(offsetof(TYPE, MEMBER) + sizeof_field(TYPE, MEMBER))

/* As in tools/testing/selftests/iommu/iommufd_utils.h. */
#ifndef EXPECT_ERRNO
#define EXPECT_ERRNO(expected_errno, cmd)         \
	({                                        \
		ASSERT_EQ(-1, cmd);               \
		EXPECT_EQ(expected_errno, errno); \
	})
#endif

/* open_vfio_nest - open /dev/vfio-nest, loading the module if needed. */
static inline int open_vfio_nest(void)
{
	int fd = open("/dev/vfio-nest", O_RDWR);

	if (fd < 0 && errno == ENOENT &&
	    system("modprobe vfio_nest 2>/dev/null") == 0)
		fd = open("/dev/vfio-nest", O_RDWR);
	return fd;
}

#endif /* _SELFTESTS_HOST_TEST_H */
