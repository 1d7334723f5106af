#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# inner-qemu.sh: prepare the inner VMM of the nested chain (the arm64
# qemu-system-aarch64 that runs inside L1 and starts L2) and print its
# directory: a tree to copy onto / of the L1 initramfs (usr/bin/qemu-system-aarch64,
# the shared libraries at their multiarch paths, the dynamic loader).
#
# Source of the binary (the hook for the project's patched QEMU):
#   default              Debian's arm64 qemu-system-arm 10.0.x from
#                        bookworm-backports (stock device models).
#   INNER_QEMU_BIN=PATH  an arm64 qemu-system-aarch64 built elsewhere, e.g. the
#                        patched source (`vmm/qemu/build.sh --src`) cross-built
#                        with aarch64-linux-gnu-gcc against bookworm-backports'
#                        arm64 -dev packages: scripts/chain/inner-qemu-build.sh. Its libraries are taken from the
#                        same Debian arm64 closure, so it must link against
#                        (a subset of) what Debian's binary links against.
#
# The arm64 .debs come from the private apt state bookworm-arm64 (papt), with
# an empty dpkg status so apt resolves the whole dependency closure; only the
# ELF closure of the binary (DT_NEEDED, recursively) is copied. Cached under
# $CACHE/chain/inner-qemu-<version>-<hash>.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

PKG=qemu-system-arm
SUITE=bookworm-backports
CH=$CACHE/chain
DEBS=$CH/debs
mkdir -p "$CH" "$DEBS"
: >"$CH/empty-status"
st=(-o Dir::State::status="$CH/empty-status")

have_lists() {
	ls "$CACHE"/apt/bookworm-arm64/lists/*bookworm-backports*binary-arm64_Packages* >/dev/null 2>&1
}
have_lists || papt bookworm-arm64 update >/dev/null

# The closure as "pkg=version" (simulated install on an empty system).
closure=$(papt bookworm-arm64 "${st[@]}" -s install -t "$SUITE" --no-install-recommends "$PKG" |
	awk '$1 == "Inst" { v = $3; gsub(/[()]/, "", v); print $2 "=" v }')
[ -n "$closure" ] || die "inner-qemu: apt could not resolve $PKG:arm64 from $SUITE"
ver=$(echo "$closure" | awk -F= -v p="$PKG" '$1 == p { print $2 }')

bin_hash=debian
if [ -n "${INNER_QEMU_BIN:-}" ]; then
	[ -f "$INNER_QEMU_BIN" ] || die "inner-qemu: INNER_QEMU_BIN=$INNER_QEMU_BIN missing"
	bin_hash=$(sha256sum "$INNER_QEMU_BIN" | cut -c1-12)
fi
hash=$( { echo "$closure"; echo "$bin_hash"; sha256sum <"$0"; } | sha256sum | cut -c1-12)
out=$CH/inner-qemu-${ver//[:~+]/_}-$hash
if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi
# One assembly at a time (make check's two chain jobs ask together on a
# cold cache, and share root-tmp): a second caller waits, then finds it done.
exec 8>"$CH/inner-qemu.lock"
flock 8
if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi

# Download what is missing (apt-get download picks exactly these versions).
need=()
for pv in $closure; do
	p=${pv%%=*} v=${pv#*=}
	ls "$DEBS/${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || need+=("$pv")
done
if ((${#need[@]})); then
	log "inner-qemu: downloading ${#need[@]} arm64 package(s)"
	(cd "$DEBS" && papt bookworm-arm64 "${st[@]}" -o APT::Sandbox::User=root download "${need[@]}" >/dev/null)
fi

root=$CH/root-tmp
rm -rf "$root" "$out.tmp"
mkdir -p "$root" "$out.tmp"
for pv in $closure; do
	p=${pv%%=*} v=${pv#*=}
	dpkg-deb -x "$(ls "$DEBS/${p}_${v//:/%3a}_"*.deb | head -1)" "$root"
done

# Copy PATH (relative to the root) into the output, following symlinks one
# level at a time so the links and their targets both exist.
copy_rel() {
	local rel=$1 tgt
	[ -e "$out.tmp/$rel" ] || [ -L "$out.tmp/$rel" ] && return 0
	mkdir -p "$out.tmp/$(dirname "$rel")"
	if [ -L "$root/$rel" ]; then
		tgt=$(readlink "$root/$rel")
		cp -a "$root/$rel" "$out.tmp/$rel"
		case $tgt in
		/*) copy_rel "${tgt#/}" ;;
		*) copy_rel "$(dirname "$rel")/$tgt" ;;
		esac
	else
		cp -a "$root/$rel" "$out.tmp/$rel"
	fi
}

# Where a DT_NEEDED name lives in the root (Debian arm64 multiarch paths).
find_lib() {
	local d
	for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib; do
		if [ -e "$root/$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}

if [ -n "${INNER_QEMU_BIN:-}" ]; then
	mkdir -p "$root/usr/bin"
	cp "$INNER_QEMU_BIN" "$root/usr/bin/qemu-system-aarch64"
fi
copy_rel usr/bin/qemu-system-aarch64
# The loader: PT_INTERP is /lib/ld-linux-aarch64.so.1.
interp=$(aarch64-linux-gnu-readelf -l "$root/usr/bin/qemu-system-aarch64" |
	sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
copy_rel "${interp#/}"
todo=(usr/bin/qemu-system-aarch64)
declare -A seen=()
nlib=0
while ((${#todo[@]})); do
	f=${todo[0]}
	todo=("${todo[@]:1}")
	for n in $(aarch64-linux-gnu-readelf -d "$root/$f" |
		   sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -n "${seen[$n]:-}" ] && continue
		seen[$n]=1
		rel=$(find_lib "$n") || die "inner-qemu: $n (needed by $f) not in the $PKG closure"
		copy_rel "$rel"
		todo+=("$(dirname "$rel")/$(basename "$(readlink -f "$root/$rel")")")
		nlib=$((nlib + 1))
	done
done
# Debian's binary keeps its firmware/ROMs in qemu-system-data: not needed with
# -kernel, -nic none and no display; leave it out (34 MB).
rm -rf "$root"
echo "$ver${INNER_QEMU_BIN:+, binary replaced by $bin_hash}" >"$out.tmp/.version"
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.done"
log "inner-qemu: $PKG:arm64 $ver ($bin_hash), $nlib libraries, $(du -sh "$out" | cut -f1) in $out"
echo "$out"
