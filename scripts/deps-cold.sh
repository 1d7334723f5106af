#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps-cold.sh: the dependency stage of a fresh machine, on every make check:
# scripts/deps.sh into an empty temporary cache, then each artifact that a
# later step reads, through the same function that step calls (lib.sh):
# the kernel tree (unpacked, `make kernelversion` works), busybox, the UEFI
# firmware, the stock QEMU, and the apt indexes distro.sh reads. Leaves the
# real cache alone; removes the temporary one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CACHE=$(mktemp -d /var/tmp/iommu-nest-cold.XXXXXX)
export CACHE IOMMU_NEST_CACHE=$CACHE
trap 'rm -rf "$CACHE"' EXIT
t=$SECONDS
bash "$TOP/scripts/deps.sh"
fails=0
check() {
	local what=$1; shift
	if out=$("$@" 2>&1); then
		echo "ok - $what: $(echo "$out" | tail -1)"
	else
		echo "not ok - $what: $out"
		fails=$((fails + 1))
	fi
}
check "kernel tree" make -s -C "$(kernel_src)" kernelversion
check "busybox (arm64)" sh -c "file -L '$(busybox_arm64)' | grep -o 'ARM aarch64'"
check "UEFI firmware" sh -c "stat -c '%s bytes' '$(efi_firmware)'"
check "stock QEMU" sh -c "qemu-system-aarch64 --version | head -1"
check "apt state bookworm-arm64" sh -c "ls '$CACHE'/apt/bookworm-arm64/lists/*_Packages* | wc -l"
echo "deps-cold: $((SECONDS - t)) s, $(du -sh "$CACHE" | cut -f1) cache"
((fails == 0))
