/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the selftests: shell commands, sysfs files. */
#ifndef IOMMU_NEST_TEST_UTIL_H
#define IOMMU_NEST_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Run a shell command; returns its exit status (or -1 if it did not exit). */
static inline int run_cmd(const char *cmd)
{
	int st = system(cmd);

	return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Read the first line of a sysfs file into buf, without the newline. */
static inline int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static inline int write_str(const char *path, const char *str)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -1;
	if (fputs(str, f) < 0)
		ret = -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

#endif
