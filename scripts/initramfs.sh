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

kdir=$1 out=$2
src=$(kernel_src)
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
kver=$(cat "$kdir/include/config/kernel.release")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,etc/modprobe.d,proc,sys,dev,tmp,run,mnt,root,selftests,usr/bin,usr/sbin}
cp "$CACHE/busybox-arm64/bin/busybox" "$stage/bin/busybox"
# busybox --list is an arm64 binary: take the applet list from a qemu-user-free
# source, the list of links Debian's package documents.
for a in sh ash cat cp dd echo grep egrep head tail ls ln mkdir mknod mount umount rm rmdir \
	 sleep sync test [ tr wc xargs sed awk cut sort uniq find timeout poweroff reboot \
	 modprobe insmod rmmod lsmod depmod dmesg lspci hexdump od printf seq kill ps \
	 true false basename dirname readlink stat uname env date chmod mountpoint cmp md5sum; do
	ln -sf /bin/busybox "$stage/bin/$a"
done
cp "$TOP/scripts/vm-init.sh" "$stage/init"
chmod +x "$stage/init"

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

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
