#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh [FLAVOUR]: build the arm64 test kernel from Debian's linux-source
# (allnoconfig + scripts/kconfig/test.config [+ FLAVOUR.config]) and print the
# build directory. FLAVOUR is "debug" (default: the guest suites of make
# check), "kasan" (debug + KASAN + fault injection: the host suites),
# "base" (no debugging: benchmarks), "debug16k" or "debug64k" (debug with
# 16K or 64K pages: the guest suites on larger pages).
# The build is cached under $CACHE/kernel, keyed by source version + fragment
# hash, so only a changed fragment or a new linux-source rebuilds it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:-debug}
frags=("$TOP/scripts/kconfig/test.config")
case $flavour in
debug) frags+=("$TOP/scripts/kconfig/debug.config") ;;
kasan) frags+=("$TOP/scripts/kconfig/debug.config" "$TOP/scripts/kconfig/kasan.config") ;;
base) frags+=("$TOP/scripts/kconfig/base.config") ;;
debug16k) frags+=("$TOP/scripts/kconfig/debug.config" "$TOP/scripts/kconfig/pages16k.config") ;;
debug64k) frags+=("$TOP/scripts/kconfig/debug.config" "$TOP/scripts/kconfig/pages64k.config") ;;
*) die "unknown kernel flavour '$flavour' (debug, kasan, base, debug16k or debug64k)" ;;
esac

src=$(kernel_src)
srcver=$(make -s -C "$src" kernelversion)
hash=$(cat "${frags[@]}" | sha256sum | cut -c1-12)
out=$CACHE/kernel/$srcver-$flavour-$hash
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)

if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi

# One build per directory: a second caller waits, then finds it done.
mkdir -p "$CACHE/kernel"
exec 9>"$out.lock"
flock 9
if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi

log "kernel: building $srcver ($flavour, fragment $hash) in $out"
start=$SECONDS
mkdir -p "$out"
make -s -C "$src" O="$out" "${arch[@]}" allnoconfig >/dev/null
# merge_config.sh wants absolute paths; -m merges without running olddefconfig.
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
make -s -C "$src" O="$out" "${arch[@]}" olddefconfig >/dev/null

# Every fragment line must survive olddefconfig: a dropped dependency would
# otherwise silently test a different kernel than the one described.
# A later fragment overrides an earlier one, as in merge_config.sh.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) sym=${line%%=*}; grep -q "^$sym=" "$out/.config" && { log "kernel: $sym still set"; missing=1; } ;;
	CONFIG_*) grep -qxF "$line" "$out/.config" || { log "kernel: fragment line not in .config: $line"; missing=1; } ;;
	esac
done < <(cat "${frags[@]}" | grep '^CONFIG_' | awk -F= '{ last[$1] = $0; order[$1] = NR } END { for (s in last) print last[s] }')
((missing == 0)) || die "kernel config does not match the fragment"

make -C "$src" O="$out" "${arch[@]}" -j"$(($(nproc) + 1))" Image modules >"$out/build.log" 2>&1 ||
	{ tail -40 "$out/build.log"; die "kernel build failed (log: $out/build.log)"; }
make -s -C "$src" O="$out" "${arch[@]}" INSTALL_HDR_PATH="$out/usr-headers" headers_install >/dev/null
echo $((SECONDS - start)) >"$out/build-seconds"
touch "$out/.done"
log "kernel: built in $((SECONDS - start)) s"
echo "$out"
