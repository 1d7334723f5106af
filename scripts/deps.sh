#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the harness needs on a Debian bookworm x86_64 machine, and fetch
# the packages the system apt sources must never carry (sid's linux-source, the
# arm64 busybox) through a private apt state under the cache directory.
# Idempotent: a second run only checks.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOST_PKGS=(build-essential gcc-aarch64-linux-gnu libc6-dev-arm64-cross bc flex bison
	   libssl-dev libelf-dev rsync cpio kmod sparse dkms xz-utils zstd
	   python3 ninja-build meson pkg-config libglib2.0-dev libpixman-1-dev
	   libfdt-dev zlib1g-dev dwarves file perl)

need=()
for p in "${HOST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if ((${#need[@]})); then
	log "apt: installing ${need[*]}"
	apt_system_update_once
	apt_system install -y --no-install-recommends "${need[@]}"
fi

# Stock QEMU 10.0.x (bookworm-backports) for the classic tests; the project's
# patched build (vmm/qemu) serves the table-mode and nesting tests.
if ! qemu-system-aarch64 --version 2>/dev/null | grep -q 'version 10\.'; then
	log "apt: installing qemu-system-arm from bookworm-backports (private state)"
	papt bookworm update >/dev/null
	DEBIAN_FRONTEND=noninteractive papt bookworm -o DPkg::Lock::Timeout=600 \
		install -y -t bookworm-backports \
		--no-install-recommends qemu-system-arm >/dev/null
fi

# linux-source-7.x from sid, downloaded only (never installed into the
# system): the newest 7.x sid offers, or LINUX_SOURCE's. A cache that holds a
# tarball keeps it (warm runs never download); a cold cache takes what sid
# has that day, and kernel.sh proves the config fragments on it.
if ! ls "$CACHE"/src/"${LINUX_SOURCE:-linux-source-7.}"*.tar.xz >/dev/null 2>&1; then
	papt sid update >/dev/null
	pkg=${LINUX_SOURCE:-$(papt_cache sid pkgnames linux-source-7. | grep -E '^linux-source-7\.[0-9]+$' | sort -V | tail -1)}
	[ -n "$pkg" ] || die "sid offers no linux-source-7.x package"
	log "apt: downloading $pkg (private sid state)"
	tmp=$(mktemp -d)
	(cd "$tmp" && papt sid download "$pkg" >/dev/null)
	mkdir -p "$CACHE/src"
	dpkg-deb --fsys-tarfile "$tmp/${pkg}"_*.deb | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.xz'
	mv "$tmp"/usr/src/linux-source-*.tar.xz "$CACHE/src/$pkg.tar.xz"
	rm -rf "$tmp"
fi
log "deps: kernel source $(kernel_src)"
# arm64 busybox for the test initramfs.
if [ ! -x "$CACHE/busybox-arm64/bin/busybox" ]; then
	log "apt: downloading busybox-static:arm64"
	papt bookworm-arm64 update >/dev/null
	tmp=$(mktemp -d)
	(cd "$tmp" && papt bookworm-arm64 download busybox-static:arm64 >/dev/null)
	mkdir -p "$CACHE/busybox-arm64"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$CACHE/busybox-arm64"
	rm -rf "$tmp"
fi
# UEFI firmware for the ACPI boot profiles (viommu-acpi): edk2's QEMU_EFI.fd
# from Debian's qemu-efi-aarch64, unpacked privately, never installed.
efi=$CACHE/efi-aarch64
if [ ! -s "$efi/QEMU_EFI.fd" ]; then
	log "apt: downloading qemu-efi-aarch64 (private bookworm state)"
	papt bookworm update >/dev/null
	tmp=$(mktemp -d)
	(cd "$tmp" && papt bookworm download qemu-efi-aarch64 >/dev/null 2>&1)
	dpkg-deb -x "$tmp"/qemu-efi-aarch64_*.deb "$tmp/x"
	mkdir -p "$efi"
	basename "$tmp"/qemu-efi-aarch64_*.deb .deb >"$efi/version"
	cp "$tmp/x/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" "$efi/QEMU_EFI.fd.tmp"
	mv "$efi/QEMU_EFI.fd.tmp" "$efi/QEMU_EFI.fd"
	rm -rf "$tmp"
fi
log "deps: ready (cache $CACHE)"
