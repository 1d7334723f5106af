#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the project's patched qemu-system-aarch64 from Debian's QEMU source
# (bookworm-backports) and print the path of the binary.
#
#   bash vmm/qemu/build.sh            # build if needed, print the binary path
#   bash vmm/qemu/build.sh --src      # print the patched source tree instead
#   bash vmm/qemu/build.sh --check    # build, then run the device-model qtests
#                                     # (virtio-iommu incl. the pgt extension
#                                     # and 10000 fuzzed requests)
#   bash vmm/qemu/build.sh --fuzz     # build, then only the request fuzzer, for
#                                     # VIOMMU_FUZZ_SECONDS (default 600) s;
#                                     # VIOMMU_FUZZ_SEED=<n> replays a run
#   bash vmm/qemu/build.sh --asan     # --check with an AddressSanitizer build
#                                     # ($CACHE/qemu/<version>-<hash>-asan,
#                                     # build-asan/ in the same work tree)
#
# The result is cached under $CACHE/qemu/<version>-<hash>, where <hash> covers
# this script, vmm/qemu/patches/*.patch and the common/ headers the patches
# include; a cached build prints its path without touching the network.
#
# Debian's .dsc and .debian.tar.xz answer 404 on the mirror (measured when this was written), so
# the orig tarball is taken alone and checked against the sha256 that the
# Sources index of the private apt state lists.
#
# The patched tree and its build live in $CACHE/qemu/work-<version>-<hash>;
# iterating on a patch is faster in a tree of one's own (--src prints it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../../scripts/lib.sh"

QDIR=$CACHE/qemu
DL=$QDIR/dl
# Headers copied into the QEMU tree (hw/virtio/), the one authoritative copy
# stays in common/.
HEADERS=("$TOP/common/virtio_iommu_pgt.h" "$TOP/common/arm_lpae_cfg.h" "$TOP/common/vfio_nest.h")

mode=bin
asan=
case ${1:-} in
--src) mode=src ;;
--check) mode=check ;;
--fuzz) mode=fuzz ;;
--asan) mode=check; asan=-asan ;;
esac

# The headers count by their code, not their comments: a documentation
# change to the uAPI does not rebuild QEMU.
input_hash() {
	local h
	{
		sha256sum "$HERE/build.sh" | awk '{print $1}'
		for h in "${HEADERS[@]}"; do
			gcc -fpreprocessed -dD -E -P "$h" | sha256sum | awk '{print $1}'
		done
		for p in "$HERE"/patches/*.patch; do
			[ -e "$p" ] && sha256sum "$p" | awk '{print $1}'
		done
	} | sha256sum | cut -c1-12
}

# The verified orig tarball already in the cache, if any (newest version).
cached_orig() {
	local f
	f=$(ls -1 "$DL"/qemu_*.orig.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$f" ] && [ -e "$f.verified" ] && echo "$f"
	return 0
}

orig_version() {
	local b
	b=$(basename "$1")
	b=${b#qemu_}
	echo "${b%.orig.tar.xz}"
}

print_result() {
	if [ "$mode" = src ]; then
		echo "$QDIR/work-$1-$HASH/src"
	else
		echo "$2/qemu-system-aarch64"
	fi
}

# Fast path: nothing but hashing a handful of files.
HASH=$(input_hash)
ORIG=$(cached_orig)
if [ -n "$ORIG" ]; then
	VER=$(orig_version "$ORIG")
	OUT=$QDIR/$VER-$HASH$asan
	if [ -x "$OUT/qemu-system-aarch64" ] && [ "$mode" = bin ]; then
		print_result "$VER" "$OUT"
		exit 0
	fi
fi

run_qtests() {
	local work=$QDIR/work-$1-$HASH
	local build=$work/build$asan
	[ -e "$build/build.ninja" ] || die "qemu: no build tree in $build"
	log "qemu: building qos-test"
	ninja -C "$build" -j"$(nproc)" tests/qtest/qos-test >"$work/qtest-build$asan.log" 2>&1 ||
		die "qemu: qos-test build failed, see $work/qtest-build$asan.log"
	# The binary under test is the cached copy, the one the VMs run. The +ds
	# tarball has no efi-virtio.rom for the default NIC of -M virt, hence
	# -nic none; the wrapper keeps the name qtest derives the arch from.
	mkdir -p "$work/qtest-bin$asan"
	printf '#!/bin/sh\nexec %s -nic none "$@"\n' "$2/qemu-system-aarch64" \
		>"$work/qtest-bin$asan/qemu-system-aarch64"
	chmod +x "$work/qtest-bin$asan/qemu-system-aarch64"
	# ASan: report errors, not the allocations QEMU leaves at exit
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	local node=/aarch64/virt/generic-pcihost/pci-bus-generic/pci-bus/virtio-iommu-pci
	if [ "$mode" = fuzz ]; then
		QTEST_QEMU_BINARY=$work/qtest-bin$asan/qemu-system-aarch64 \
		VIOMMU_FUZZ_SECONDS=${VIOMMU_FUZZ_SECONDS:-600} \
			"$build/tests/qtest/qos-test" --tap -k \
			-p "$node/virtio-iommu/virtio-iommu-tests/fuzz"
		return
	fi
	QTEST_QEMU_BINARY=$work/qtest-bin$asan/qemu-system-aarch64 \
		"$build/tests/qtest/qos-test" --tap -k -r "$node"
}

mkdir -p "$DL"
exec 9>"$QDIR/.lock"
flock 9

fetch_orig() {
	local want have idx cat
	log "qemu: fetching the source (private apt state, bookworm-backports)"
	papt bookworm update >/dev/null
	# The .dsc and debian tarball 404, so apt-get exits non-zero: judge by the
	# orig tarball and its checksum instead.
	(cd "$DL" && papt bookworm source --download-only qemu >"$DL/fetch.log" 2>&1) || true
	ORIG=$(ls -1 "$DL"/qemu_*.orig.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$ORIG" ] || die "qemu: no orig tarball downloaded, see $DL/fetch.log"
	idx=$(ls "$CACHE"/apt/bookworm/lists/*bookworm-backports_main_source_Sources* 2>/dev/null | head -n1)
	[ -n "$idx" ] || die "qemu: no bookworm-backports Sources index in the private apt state"
	cat=cat
	case $idx in
	*.lz4) cat=lz4cat ;;
	*.xz) cat=xzcat ;;
	*.gz) cat=zcat ;;
	esac
	want=$($cat "$idx" | awk -v f="$(basename "$ORIG")" '
		/^Checksums-Sha256:/ {c = 1; next}
		/^[^ ]/ {c = 0}
		c && $3 == f && !w {w = $1}
		END {print w}')
	have=$(sha256sum "$ORIG" | awk '{print $1}')
	[ -n "$want" ] || die "qemu: $(basename "$ORIG") is not listed in the Sources index"
	[ "$want" = "$have" ] || die "qemu: sha256 mismatch for $(basename "$ORIG"): $have, index says $want"
	touch "$ORIG.verified"
	log "qemu: $(basename "$ORIG") sha256 ok"
}

ensure_meson() {
	# QEMU 10 wants meson >= 1.5 and pycotap, and the +ds tarball ships no
	# wheels: bookworm has meson 1.0, bookworm-backports 1.7 and pycotap.
	# Configure runs with Debian's python3 so that it sees them.
	local v
	v=$(/usr/bin/meson --version 2>/dev/null || echo 0)
	if ! printf '1.5.0\n%s\n' "$v" | sort -V -C ||
	   ! /usr/bin/python3 -c 'import pycotap' 2>/dev/null; then
		log "qemu: installing meson and python3-pycotap from bookworm-backports"
		DEBIAN_FRONTEND=noninteractive papt bookworm install -y -t bookworm-backports \
			--no-install-recommends meson python3-pycotap >/dev/null
	fi
}

ORIG=$(cached_orig)
[ -n "$ORIG" ] || fetch_orig
VER=$(orig_version "$ORIG")
OUT=$QDIR/$VER-$HASH$asan
if [ -x "$OUT/qemu-system-aarch64" ] && [ "$mode" = bin ]; then
	print_result "$VER" "$OUT"
	exit 0
fi
if [ -x "$OUT/qemu-system-aarch64" ] && { [ "$mode" = check ] || [ "$mode" = fuzz ]; } &&
   [ -e "$QDIR/work-$VER-$HASH/build$asan/build.ninja" ]; then
	run_qtests "$VER" "$OUT"
	exit
fi

PRISTINE=$QDIR/src-$VER
if [ ! -e "$PRISTINE/.unpacked" ]; then
	log "qemu: unpacking $(basename "$ORIG")"
	rm -rf "$PRISTINE" "$PRISTINE.tmp"
	mkdir -p "$PRISTINE.tmp"
	tar -C "$PRISTINE.tmp" --strip-components=1 -xJf "$ORIG"
	touch "$PRISTINE.tmp/.unpacked"
	mv "$PRISTINE.tmp" "$PRISTINE"
fi

# One source and build tree per input hash: patch sets never share a tree,
# so two checkouts with different patches (another worktree, CI) cannot undo
# each other's work, and an interrupted build resumes where it stopped.
WORK=$QDIR/work-$VER-$HASH
SRC=$WORK/src
BUILD=$WORK/build$asan
if [ ! -e "$SRC/.patched" ]; then
	rm -rf "$WORK"
	mkdir -p "$WORK"
	cp -a "$PRISTINE" "$SRC"
	rm -f "$SRC/.unpacked"
	for h in "${HEADERS[@]}"; do
		cp "$h" "$SRC/hw/virtio/"
	done
	for p in "$HERE"/patches/*.patch; do
		[ -e "$p" ] || continue
		log "qemu: applying $(basename "$p")"
		patch -d "$SRC" -p1 -s -N --no-backup-if-mismatch <"$p" ||
			die "qemu: $(basename "$p") does not apply"
	done
	touch "$SRC/.patched"
fi
touch "$WORK"

# The +ds tarball has no firmware blobs, yet meson wants the edk2 ones to
# exist whenever bzip2 is installed; empty stand-ins satisfy it (they are
# never built: only qemu-system-aarch64 is).
for f in aarch64-code arm-code arm-vars riscv-code riscv-vars i386-code \
	 i386-secure-code i386-vars x86_64-code x86_64-secure-code \
	 loongarch64-code loongarch64-vars; do
	[ -e "$SRC/pc-bios/edk2-$f.fd.bz2" ] ||
		bzip2 -c </dev/null >"$SRC/pc-bios/edk2-$f.fd.bz2"
done

if [ "$mode" = src ]; then
	print_result "$VER" "$OUT"
	exit 0
fi

ensure_meson
if [ ! -e "$BUILD/build.ninja" ]; then
	log "qemu: configuring"
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	(cd "$BUILD" && "$SRC/configure" \
		--python=/usr/bin/python3 \
		--target-list=aarch64-softmmu \
		--without-default-features \
		--enable-fdt=system \
		--enable-tcg \
		--disable-werror \
		--disable-docs \
		--disable-tools \
		--disable-guest-agent \
		--disable-download \
		--disable-install-blobs \
		${asan:+--enable-asan} \
		>"$WORK/configure$asan.log" 2>&1) ||
		die "qemu: configure failed, see $WORK/configure$asan.log"
fi

log "qemu: building $VER-$HASH in $BUILD"
start=$(date +%s)
ninja -C "$BUILD" -j"$(nproc)" qemu-system-aarch64 >"$WORK/build$asan.log" 2>&1 ||
	die "qemu: build failed, see $WORK/build$asan.log"
log "qemu: built in $(($(date +%s) - start)) s"

mkdir -p "$OUT.tmp"
cp "$BUILD/qemu-system-aarch64" "$OUT.tmp/"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
# Keep the cache small: the three newest binaries and the two newest trees
# of this version stay.
ls -1dt "$QDIR/$VER"-*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
ls -1dt "$QDIR/work-$VER"-*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
{ [ "$mode" = check ] || [ "$mode" = fuzz ]; } && { run_qtests "$VER" "$OUT"; exit; }
print_result "$VER" "$OUT"
