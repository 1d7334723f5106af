#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh KDIR: dkms add/build/install the module pair from dkms.conf
# against the test kernel in KDIR, with private dkms, source and install trees
# so nothing touches the system's /var/lib/dkms or /lib/modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$1
kver=$(cat "$kdir/include/config/kernel.release")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{src,dkms,root/lib/modules/"$kver"}
rsync -a --exclude .git --exclude results --exclude selftests/out \
	--exclude '*.o' --exclude '*.ko' "$TOP/" "$tmp/src/iommu-nest-$ver/"
opts=(-m iommu-nest -v "$ver" --sourcetree "$tmp/src" --dkmstree "$tmp/dkms")
kopts=(-k "$kver" --kernelsourcedir "$kdir")
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
unset VIOMMU_PGT_TEST
dkms add "${opts[@]}" >"$tmp/dkms.log" 2>&1 || { cat "$tmp/dkms.log"; die "dkms add failed"; }
dkms build "${opts[@]}" "${kopts[@]}" >>"$tmp/dkms.log" 2>&1 ||
	{ cat "$tmp/dkms.log"; cat "$tmp"/dkms/iommu-nest/"$ver"/build/make.log 2>/dev/null; die "dkms build failed"; }
# dkms would run depmod on the system's /lib/modules: do it on the private tree.
dkms install "${opts[@]}" "${kopts[@]}" --installtree "$tmp/root/lib/modules" --no-depmod \
	>>"$tmp/dkms.log" 2>&1 || { cat "$tmp/dkms.log"; die "dkms install failed"; }
depmod -b "$tmp/root" "$kver" 2>/dev/null
for m in virtio_iommu_pgt vfio_nest; do
	f=$(find "$tmp/root" -name "$m.ko*" | head -1)
	[ -n "$f" ] || { cat "$tmp/dkms.log"; die "dkms install left no $m.ko"; }
	file "$f" | grep -q 'ARM aarch64' || die "$f is not an arm64 module"
	grep -q "/$m.ko" "$tmp/root/lib/modules/$kver/modules.dep" ||
		die "depmod did not index $m"
	log "dkms: installed ${f#"$tmp"/root/}"
	# A production build carries no test knob (VIOMMU_PGT_TEST=1 only).
	! grep -qa 'skip_invalidations' "$f" || die "$f has the test knobs"
	modinfo -F version "$f" | grep -qx "$ver" || die "$f: modinfo version is not $ver"
done
dkms status "${opts[@]}" "${kopts[@]}" | grep -q installed || die "dkms status does not say installed"
