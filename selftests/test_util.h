/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the selftests: shell commands, sysfs files. */
#ifndef IOMMU_NEST_TEST_UTIL_H
#define IOMMU_NEST_TEST_UTIL_H

#include <dirent.h>
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

/* Copy a directory entry name, truncating to the buffer */
static inline void copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Numeric value of the sysfs attribute DIR/NAME/ATTR, or -1 */
static inline long sysfs_attr_num(const char *dir, const char *name,
				  const char *attr)
{
	char path[300], val[32];

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, attr);
	if (read_line(path, val, sizeof(val)))
		return -1;
	return strtol(val, NULL, 0);
}

/*
 * Name of the first entry of the sysfs directory DIR (e.g. a bus's devices)
 * whose numeric attribute ATTR1 is VAL1 and ATTR2 is VAL2 (a NULL attribute
 * matches anything); 0 if found.
 */
static inline int sysfs_find(const char *dir, const char *attr1, long val1,
			     const char *attr2, long val2,
			     char *name, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (attr1 && sysfs_attr_num(dir, de->d_name, attr1) != val1)
			continue;
		if (attr2 && sysfs_attr_num(dir, de->d_name, attr2) != val2)
			continue;
		copy_name(name, len, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

#endif
