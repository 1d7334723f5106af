#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh KDIR [EXTRA MAKE ARGS]: build the module pair, the test kmods and
# the selftests for the arm64 test kernel in KDIR. Incremental; fails on error.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$1; shift
# The guest module's test knobs (guest/testing.c): test builds only.
export VIOMMU_PGT_TEST=1
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
make -s -C "$TOP" KDIR="$kdir" "${arch[@]}" "$@" modules
if [ -n "$(ls "$TOP"/selftests/kmod/*.c 2>/dev/null)" ]; then
	make -s -C "$kdir" M="$TOP/selftests/kmod" "${arch[@]}" "$@" modules
fi
make -s -C "$TOP/selftests" KDIR="$kdir" KSRC="$(kernel_src)"
