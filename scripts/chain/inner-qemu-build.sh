#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# inner-qemu-build.sh: cross-build the project's patched QEMU (the tree that
# `vmm/qemu/build.sh --src` prints) for arm64, as the inner VMM of the nested
# chain, and print the path of the arm64 qemu-system-aarch64. Use it with
#   INNER_QEMU_BIN=$(bash scripts/chain/inner-qemu-build.sh) bash scripts/chain/inner-qemu.sh
# or CHAIN_INNER_QEMU=patched bash scripts/chain.sh.
#
# Build dependencies are Debian's arm64 -dev packages (bookworm-backports
# closure, private apt state bookworm-arm64, empty dpkg status) extracted into
# a sysroot under $CACHE/chain/sysroot-arm64-<hash>; pkg-config looks only
# there (libfdt has no .pc: -I/-L on the sysroot); the compiler is bookworm's
# aarch64-linux-gnu-gcc. Features: KVM (the
# inner QEMU runs L2 under L1's KVM), TCG (fallback), fdt, vfio + iommufd
# (Linux defaults); nothing else. Runtime libraries are a subset of what
# Debian's qemu-system-arm links against, so inner-qemu.sh can ship them.
# Cached under $CACHE/chain/qemu-arm64-<hash of the patched tree's inputs>.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

CH=$CACHE/chain
DEV_PKGS=(libglib2.0-dev libfdt-dev zlib1g-dev libpixman-1-dev)
# The cross toolchain brings its own libc; python & co. are not needed.
SKIP_RE='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt-dev|gcc-12-base|libgcc-s1|python3.*|libpython3.*|tar|dpkg|media-types|readline-common|pkgconf.*|pkg-config|libglib2.0-bin|libglib2.0-dev-bin|libglib2.0-data|rpcsvc-proto)$'

mkdir -p "$CH/debs"
# One build at a time: the sysroot and the work tree are shared by all
# checkouts (two make checks at once would build over each other).
exec 8>"$CH/inner-qemu-build.lock"
flock 8
: >"$CH/empty-status"
st=(-o Dir::State::status="$CH/empty-status")
closure=$(papt bookworm-arm64 "${st[@]}" -s install -t bookworm-backports --no-install-recommends "${DEV_PKGS[@]}" |
	awk '$1 == "Inst" { v = $3; gsub(/[()]/, "", v); print $2 "=" v }')
[ -n "$closure" ] || die "inner-qemu-build: apt could not resolve ${DEV_PKGS[*]}:arm64"
sysroot=$CH/sysroot-arm64-$(echo "$closure" | sha256sum | cut -c1-12)
if [ ! -e "$sysroot/.done" ]; then
	need=()
	for pv in $closure; do
		p=${pv%%=*} v=${pv#*=}
		[[ $p =~ $SKIP_RE ]] && continue
		ls "$CH/debs/${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || need+=("$pv")
	done
	if ((${#need[@]})); then
		log "inner-qemu-build: downloading ${#need[@]} arm64 -dev package(s)"
		(cd "$CH/debs" && papt bookworm-arm64 "${st[@]}" -o APT::Sandbox::User=root download "${need[@]}" >/dev/null)
	fi
	rm -rf "$sysroot"
	mkdir -p "$sysroot"
	for pv in $closure; do
		p=${pv%%=*} v=${pv#*=}
		[[ $p =~ $SKIP_RE ]] && continue
		dpkg-deb -x "$(ls "$CH/debs/${p}_${v//:/%3a}_"*.deb | head -1)" "$sysroot"
	done
	# Debian's -dev symlinks are absolute (/lib/...): make them sysroot-relative.
	find "$sysroot" -type l -lname '/*' | while read -r l; do
		ln -sfn "$sysroot$(readlink "$l")" "$l"
	done
	touch "$sysroot/.done"
fi

src=$(bash "$TOP/vmm/qemu/build.sh" --src | tail -1)
[ -e "$src/configure" ] || die "inner-qemu-build: no patched QEMU tree ($src)"
# vmm/qemu/build.sh names its tree after the hash of its inputs (patches,
# headers): work-<version>-<hash>/src.
hash=$( { basename "$(dirname "$src")"; sha256sum <"$0"; echo "$sysroot"; } | sha256sum | cut -c1-12)
out=$CH/qemu-arm64-$hash
if [ -x "$out/qemu-system-aarch64" ]; then
	echo "$out/qemu-system-aarch64"
	exit 0
fi

work=$CH/qemu-arm64-work
mkdir -p "$work"
# A private copy: vmm/qemu/build.sh re-syncs and re-patches its tree at will.
rsync -a --delete --exclude=/build "$src/" "$work/src/"
cat >"$work/pkg-config" <<EOF
#!/bin/sh
export PKG_CONFIG_LIBDIR=$sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$sysroot/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$sysroot
exec pkg-config "\$@"
EOF
chmod +x "$work/pkg-config"
rl=$sysroot/lib/aarch64-linux-gnu:$sysroot/usr/lib/aarch64-linux-gnu
if [ ! -e "$work/build/build.ninja" ]; then
	log "inner-qemu-build: configuring (arm64 cross, sysroot $sysroot)"
	rm -rf "$work/build"
	mkdir -p "$work/build"
	(cd "$work/build" && PKG_CONFIG="$work/pkg-config" "$work/src/configure" \
		--python=/usr/bin/python3 \
		--cross-prefix=aarch64-linux-gnu- \
		--target-list=aarch64-softmmu \
		--without-default-features \
		--enable-kvm --enable-tcg --enable-fdt=system \
		--disable-werror --disable-docs --disable-tools --disable-guest-agent \
		--disable-download --disable-install-blobs \
		--extra-cflags="-I$sysroot/usr/include" \
		--extra-ldflags="-L$sysroot/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,$rl" \
		>"$work/configure.log" 2>&1) ||
		{ tail -30 "$work/configure.log" >&2; die "inner-qemu-build: configure failed, see $work/configure.log"; }
fi
log "inner-qemu-build: building in $work/build"
start=$SECONDS
ninja -C "$work/build" -j"$(nproc)" qemu-system-aarch64 >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log" >&2; die "inner-qemu-build: build failed, see $work/build.log"; }
log "inner-qemu-build: built in $((SECONDS - start)) s"
mkdir -p "$out.tmp"
cp "$work/build/qemu-system-aarch64" "$out.tmp/"
aarch64-linux-gnu-strip "$out.tmp/qemu-system-aarch64"
rm -rf "$out"
mv "$out.tmp" "$out"
ls -1dt "$CH"/qemu-arm64-*/ 2>/dev/null | grep -v work | tail -n +4 | xargs -r rm -rf
echo "$out/qemu-system-aarch64"
