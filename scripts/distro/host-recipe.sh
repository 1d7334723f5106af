#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# distro/host-recipe.sh: prove the config half of the host-kernel recipe of
# docs/distro-kernels.md on 7.x: Debian's own arm64 config of the
# linux-source the harness builds (linux-config-7.x:arm64 from sid,
# through a private arm64 sid apt state) + scripts/distro/host.config,
# merged and olddefconfig'd in the linux-source tree: every fragment line
# must survive, and dkms.conf must then select the host module. Prints one
# line. Cached by source version + fragment hash. (The full `make
# bindeb-pkg` of that config takes hours on 2 cores and is not run here; the
# harness's own 7.x test kernel carries the same options, and the dkms step
# builds vfio_nest against it.)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

src=$(kernel_src)
[ -d "$src" ] || die "no $src: run scripts/deps.sh"
frag=$TOP/scripts/distro/host.config
srcver=$(make -s -C "$src" kernelversion)
out=$CACHE/distro/recipe-$srcver-$(cat "$frag" "$TOP/dkms.conf" | sha256sum | cut -c1-12)
if [ ! -e "$out/.done" ]; then
	rm -rf "$out"
	mkdir -p "$out"
	# Debian's arm64 flavour config, from the linux-config package of sid.
	cfgpkg=linux-config-$(kernel_src_version):arm64
	[ -n "$(papt_cache sid-arm64 policy "$cfgpkg" 2>/dev/null)" ] || papt sid-arm64 update >/dev/null
	(cd "$out" && papt sid-arm64 download "$cfgpkg" >/dev/null 2>&1) ||
		{ papt sid-arm64 update >/dev/null; (cd "$out" && papt sid-arm64 download "$cfgpkg" >/dev/null); }
	deb=$(ls "$out"/linux-config-*.deb)
	dpkg-deb -f "$deb" Version >"$out/debian-version"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-config-*/config.arm64_none_arm64.xz' |
		xz -d >"$out/.config"
	rm -f "$deb"
	grep -qE '^CONFIG_IOMMUFD=(y|m)$' "$out/.config" && log "recipe: note: Debian's $srcver config already enables IOMMUFD"
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null)
	make -s -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- olddefconfig >/dev/null
	bad=$(grep '^CONFIG_' "$frag" | while IFS= read -r l; do grep -qxF "$l" "$out/.config" || echo -n "$l "; done)
	[ -z "$bad" ] || die "recipe: olddefconfig dropped: $bad"
	touch "$out/.done"
fi
# What dkms.conf decides for that kernel (it reads ${kernel_source_dir}/.config).
host=$(kernel_source_dir=$out kernelver=$srcver bash -c '. "$1"; echo "${BUILT_MODULE_NAME[1]:-none}"' _ "$TOP/dkms.conf")
[ "$host" = vfio_nest ] || die "recipe: dkms.conf does not select vfio_nest on the rebuilt config"
echo "Debian $(cat "$out/debian-version") arm64 config + scripts/distro/host.config: $(grep '^CONFIG_' "$frag" | tr '\n' ' ')kept by olddefconfig; dkms.conf selects vfio_nest"
