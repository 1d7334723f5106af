#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh [OPTIONS] PROFILE [PROGRAM...]: boot the test VM PROFILE
# (scripts/profiles.sh) and run PROGRAMs (default: the PROFILE's lines of
# selftests/run.list); print one line per test and
# "PROFILE: N passed, N failed, N skipped"; exit non-zero on any failure.
#
# Options (a kernel and QEMU of your own; default: the harness's):
#   --kdir DIR     kernel build directory the modules and selftests are built
#                  against (needs usr-headers/: make headers_install
#                  INSTALL_HDR_PATH=DIR/usr-headers); its Image is booted
#                  unless --image says otherwise
#   --image FILE   arm64 Image to boot (its modules must come from --kdir)
#   --qemu FILE    qemu-system-aarch64 to run instead of the profile's
#   -h, --help     this text
#
# Environment: KFLAVOUR (debug|base|kasan|debug16k|debug64k: the harness
# kernel to use), VM_TIMEOUT (s, whole VM), TEST_TIMEOUT (s, per program),
# NO_BUILD=1 (skip the module/selftest/initramfs build: make check builds
# once for all), RUN_NAME (name of the run in the result line and results/,
# default PROFILE).
# Logs: results/RUN_NAME/console.log.
#
# Example, one test on your own kernel and QEMU:
#   bash scripts/vm.sh --kdir ~/linux/out --qemu ~/qemu/build/qemu-system-aarch64 \
#       viommu-pgt guest_dma_test
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/vmrun.sh"
. "$TOP/scripts/profiles.sh"

usage() { sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
kdir="" image="" qemu=""
while (($#)); do
	case $1 in
	--kdir) kdir=$(realpath "${2:?--kdir needs a directory}"); shift 2 ;;
	--image) image=$(realpath "${2:?--image needs a file}"); shift 2 ;;
	--qemu) qemu=$(realpath "${2:?--qemu needs a file}"); shift 2 ;;
	-h|--help) usage ;;
	-*) echo "vm.sh: unknown option $1" >&2; usage 2 >&2 ;;
	*) break ;;
	esac
done
profile=${1:-}
[ -n "$profile" ] || usage 2 >&2
shift
fn=profile_${profile//-/_}
declare -F "$fn" >/dev/null || die "unknown profile '$profile' (see scripts/profiles.sh)"

flavour=${KFLAVOUR:-$(profile_flavour "$profile")}
if [ -n "$kdir" ]; then
	[ -d "$kdir/usr-headers/include" ] ||
		die "$kdir/usr-headers missing: make -C $kdir headers_install INSTALL_HDR_PATH=$kdir/usr-headers"
	flavour=own
else
	kdir=$(bash "$TOP/scripts/kernel.sh" "$flavour")
fi
image=${image:-$kdir/arch/arm64/boot/Image}
[ -s "$image" ] || die "no kernel image $image"
name=${RUN_NAME:-$profile}
RUN_DIR=$RESULTS/$name
mkdir -p "$RUN_DIR"

list=$RUN_DIR/tests.list
if (($#)); then
	printf '%s\n' "$@" >"$list"
else
	awk -v p="$profile" '$1 == p { $1 = ""; sub(/^ /, ""); print }' \
		"$TOP/selftests/run.list" >"$list"
fi
[ -s "$list" ] || die "no tests for profile $profile"

FIRMWARE="" KERNEL_ARGS=""
QEMU_OVERRIDE=${qemu:-${QEMU_OVERRIDE:-}} "$fn"
base=$(vm_base "$kdir" "$flavour")
vm_initrd "$base" "$list" "$RUN_DIR/initramfs.cpio"

cmdline=$(vm_cmdline "$flavour" "nest.timeout=${TEST_TIMEOUT:-600}${BENCH_SECONDS:+ bench.seconds=$BENCH_SECONDS}")
log "vm: $profile: $(wc -l <"$list") program(s), $flavour kernel, $(basename "$QEMU") $("$QEMU" --version | head -1 | awk '{print $4}')"
start=$SECONDS
rc=0
vm_boot "$image" "$RUN_DIR/initramfs.cpio" "$RUN_DIR/console.log" "$cmdline" || rc=$?
echo $((SECONDS - start)) >"$RUN_DIR/seconds"
((rc == 137)) && log "vm: $profile: killed after ${VM_TIMEOUT:-1500} s"

vm_count "$RUN_DIR/console.log" "$name" "$list"
echo "$VM_PASSED $VM_FAILED $VM_SKIPPED" >"$RUN_DIR/counts"
echo "$name: $VM_PASSED passed, $VM_FAILED failed, $VM_SKIPPED skipped ($((SECONDS - start)) s; log $RUN_DIR/console.log)"
if ((VM_FAILED)); then
	echo "--- tail of $RUN_DIR/console.log ---"
	tail -n 40 "$RUN_DIR/console.log"
	exit 1
fi
