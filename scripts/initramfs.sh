#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh KDIR OUT: pack the test initramfs: busybox, the kernel's own
# modules and the project's modules installed with depmod (so tests use
# modprobe), guest/modprobe.d, the selftests and test kmods, and /init
# (scripts/vm-init.sh). The per-run test list is appended by vm.sh as a second
# cpio archive (the kernel unpacks concatenated archives in order).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/vmrun.sh"

kdir=$1 out=$2
src=$(kernel_src)
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
kver=$(cat "$kdir/include/config/kernel.release")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

vm_stage_base "$stage"

make -s -C "$src" O="$kdir" "${arch[@]}" INSTALL_MOD_PATH="$stage" DEPMOD=true modules_install
make -s -C "$kdir" M="$TOP" "${arch[@]}" INSTALL_MOD_PATH="$stage" DEPMOD=true modules_install
if [ -d "$TOP/selftests/kmod" ] && [ -n "$(ls "$TOP"/selftests/kmod/*.c 2>/dev/null)" ]; then
	make -s -C "$kdir" M="$TOP/selftests/kmod" "${arch[@]}" INSTALL_MOD_PATH="$stage" \
		DEPMOD=true modules_install
fi
depmod -b "$stage" "$kver"
cp "$TOP"/guest/modprobe.d/*.conf "$stage/etc/modprobe.d/" 2>/dev/null || true
cp "$TOP"/selftests/out/* "$stage/selftests/"
[ -d "$TOP/selftests/scripts" ] && cp "$TOP"/selftests/scripts/* "$stage/selftests/"
# Extra payloads (e.g. an inner QEMU and L2 images) can be dropped in $EXTRA_DIR.
[ -n "${EXTRA_DIR:-}" ] && cp -a "$EXTRA_DIR"/. "$stage/"

vm_pack "$stage" "$out"
