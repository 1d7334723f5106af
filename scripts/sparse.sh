#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse.sh: print the path of a sparse that the 7.x kernel accepts for C=2.
# Bookworm's sparse 0.6.4 lacks __typeof_unqual__, and Linux 7.x then skips
# sparse with only a notice (scripts/checker-valid.sh), so the project builds
# Debian sid's sparse source (0.6.5~rc1; apt verifies it against the Sources
# index) through a private apt state. sid's binary package needs glibc 2.38.
# Cached under $CACHE/sparse/<version>.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

d=$CACHE/apt/sid-src
if ! ls "$CACHE"/sparse/*/sparse >/dev/null 2>&1; then
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	echo "deb-src http://deb.debian.org/debian sid main" >"$d/sources.list"
	aptopts=(-o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		 -o Dir::State::Lists="$d/lists" -o Dir::Cache::Archives="$d/archives")
	apt-get "${aptopts[@]}" update >/dev/null
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get "${aptopts[@]}" source --download-only sparse >/dev/null 2>&1)
	tar -xf "$tmp"/sparse_*.orig.tar.* -C "$tmp"
	src=$(ls -d "$tmp"/sparse-*/ | head -1)
	ver=$(basename "$src")
	make -s -C "$src" -j"$(nproc)" HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no HAVE_LIBXML=no \
		sparse >/dev/null 2>&1 || die "sparse build failed"
	mkdir -p "$CACHE/sparse/$ver"
	cp "$src/sparse" "$CACHE/sparse/$ver/sparse"
fi
s=$(ls "$CACHE"/sparse/*/sparse | tail -1)
[ "$(bash "$(kernel_src)/scripts/checker-valid.sh" "$s")" = 1 ] ||
	die "$s is not accepted by the kernel's checker-valid.sh"
echo "$s"
