#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# distro/fetch.sh ID: download Debian's arm64 kernel ID through the private
# apt states and unpack it, never install it, into $CACHE/distro/ID/root.
# ID is an ABI (e.g. 6.1.0-56 or 6.12.95+deb12: flavour arm64, 4K pages) or
# an ABI with -16k (flavour arm64-16k, 16K pages). With FLAVOUR that one:
#   linux-image-ABI-FLAVOUR       arm64  vmlinuz + modules (booted in QEMU)
#   linux-headers-ABI-FLAVOUR     arm64  flavour headers, .config, Module.symvers
#   linux-headers-ABI-common      all    common headers
#   linux-kbuild-*                amd64  host tools (fixdep, modpost) for this machine
# The flavour Makefile's absolute include of /usr/src/linux-headers-ABI-common
# is pointed at the unpacked copy. Prints the unpacked root. Cached by ID.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

id=${1:?usage: distro/fetch.sh ID}
case $id in
*-16k) abi=${id%-16k} flavour=arm64-16k ;;
*) abi=$id flavour=arm64 ;;
esac
dir=$CACHE/distro/$id
root=$dir/root
if [ -e "$dir/.fetched" ]; then
	echo "$root"
	exit 0
fi
# Several work trees may run make check at once: one fetch per ABI.
mkdir -p "$CACHE/distro"
exec 9>"$CACHE/distro/.$id.lock"
flock 9
if [ -e "$dir/.fetched" ]; then
	echo "$root"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/debs"
img=linux-image-$abi-$flavour hdr=linux-headers-$abi-$flavour com=linux-headers-$abi-common

# The flavour headers name the kbuild package they need (linux-kbuild-6.1 or
# linux-kbuild-ABI); only the amd64 build runs on this machine.
(cd "$dir/debs" && papt bookworm-arm64 -o APT::Sandbox::User=root download "$img" "$hdr" "$com" >/dev/null) ||
	die "could not download $img/$hdr/$com (is $abi still in the archive?)"
kb=$(dpkg-deb -f "$dir/debs/${hdr}"_*.deb Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-kbuild-[^ ]*\).*/\1/p' | head -1)
[ -n "$kb" ] || die "$hdr names no linux-kbuild package"
[ -d "$CACHE/apt/bookworm/lists" ] && ls "$CACHE/apt/bookworm/lists/"*amd64_Packages* >/dev/null 2>&1 ||
	papt bookworm update >/dev/null
(cd "$dir/debs" && papt bookworm -o APT::Sandbox::User=root download "$kb:amd64" >/dev/null) ||
	die "could not download $kb:amd64"

mkdir -p "$root"
for d in "$dir"/debs/*.deb; do
	dpkg-deb -x "$d" "$root"
done
dpkg-deb -f "$dir/debs/${img}"_*.deb Version >"$dir/version"
rm -rf "$dir/debs"

# linux-headers-ABI-arm64/Makefile: "include /usr/src/linux-headers-ABI-common/Makefile"
# (and, in some versions, an absolute "source" in the same file).
mk=$root/usr/src/$hdr/Makefile
[ -f "$mk" ] || die "$mk missing"
sed -i "s|/usr/src/$com|$root/usr/src/$com|g" "$mk"
grep -q "$root/usr/src/$com" "$mk" || die "$mk: no include of $com to fix"
# Absolute symlinks inside the unpacked trees (scripts, tools) must point into it.
find "$root/usr/src" "$root/usr/lib" -maxdepth 3 -type l 2>/dev/null | while read -r l; do
	t=$(readlink "$l")
	case $t in /usr/*) ln -sfn "$root$t" "$l" ;; esac
done
# Debian generates modules.dep at install time; the VM initramfs needs it.
kver=$abi-$flavour
[ -d "$root/lib/modules/$kver" ] || die "$img has no lib/modules/$kver"
depmod -b "$root" "$kver"
touch "$dir/.fetched"
echo "$root"
