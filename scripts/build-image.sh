#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-image.sh KDIR OUT: build the modules and selftests for the kernel in
# KDIR (build.sh) and pack the test initramfs OUT (initramfs.sh), or, when
# nothing those two read has changed since a build for KDIR, take the
# initramfs and selftests/out from $CACHE/build. The key covers the content
# of every source, the harness files that go into the image, KDIR's
# Module.symvers, busybox and the cross compiler.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$1 out=$2
# Extra payloads are not part of the key: build without the cache.
if [ -n "${EXTRA_DIR:-}" ]; then
	bash "$TOP/scripts/build.sh" "$kdir"
	exec bash "$TOP/scripts/initramfs.sh" "$kdir" "$out"
fi
key=$(inputs_hash "$(sha256sum "$kdir/Module.symvers")" \
	"$(sha256sum "$(busybox_arm64)")" "$(aarch64-linux-gnu-gcc --version | head -1)" \
	"VIOMMU_PGT_TEST=1" -- guest host common selftests Kbuild Makefile \
	scripts/build.sh scripts/initramfs.sh scripts/vmrun.sh scripts/vm-init.sh \
	scripts/busybox-applets scripts/lib.sh)
base=$CACHE/build/$(basename "$kdir")
c=$base-$key
mkdir -p "$CACHE/build"
# One lock per kernel: other work trees may run make check meanwhile.
exec 9>"$base.lock"
flock 9
if [ -e "$c/.done" ] && [ -s "$c/initramfs.cpio" ] && [ -s "$c/selftests-out.tar" ]; then
	rm -rf "$TOP/selftests/out"
	tar -xf "$c/selftests-out.tar" -C "$TOP/selftests"
	cp "$c/initramfs.cpio" "$out"
	log "build: inputs unchanged (key $key): reusing $c"
	exit 0
fi
bash "$TOP/scripts/build.sh" "$kdir"
bash "$TOP/scripts/initramfs.sh" "$kdir" "$out"
tmp=$(mktemp -d "$c.tmp.XXXXXX")
cp "$out" "$tmp/initramfs.cpio"
tar -cf "$tmp/selftests-out.tar" -C "$TOP/selftests" out
touch "$tmp/.done"
rm -rf "$c" && mv "$tmp" "$c"
# Keep the two newest builds per kernel.
ls -dt "$base"-* | grep -v '\.tmp\.\|\.lock$' | tail -n +3 | xargs -r rm -rf
log "build: built and cached as $c"
