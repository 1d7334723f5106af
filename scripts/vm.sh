#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh PROFILE [PROGRAM...]: build the modules, selftests and initramfs, boot
# the test VM PROFILE (scripts/profiles.sh) and run PROGRAMs (default: the
# PROFILE's lines in selftests/run.list). Prints one line per test and
# "PROFILE: N passed, N failed, N skipped"; exits non-zero on any failure.
# Logs: results/PROFILE/console.log. Environment: KFLAVOUR (debug|base),
# VM_TIMEOUT (s, whole VM), TEST_TIMEOUT (s, per program), NO_BUILD=1 to skip
# the module/selftest build (make check builds once before all profiles).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/profiles.sh"

profile=${1:?usage: vm.sh PROFILE [PROGRAM...]}
shift
fn=profile_${profile//-/_}
declare -F "$fn" >/dev/null || die "unknown profile '$profile' (see scripts/profiles.sh)"

kdir=$(bash "$TOP/scripts/kernel.sh" "${KFLAVOUR:-debug}")
RUN_DIR=$RESULTS/$profile
mkdir -p "$RUN_DIR"
[ "${NO_BUILD:-0}" = 1 ] || bash "$TOP/scripts/build.sh" "$kdir" >&2

list=$RUN_DIR/tests.list
if (($#)); then
	printf '%s\n' "$@" >"$list"
else
	awk -v p="$profile" '$1 == p { $1 = ""; sub(/^ /, ""); print }' \
		"$TOP/selftests/run.list" >"$list"
fi
[ -s "$list" ] || die "no tests for profile $profile"

# A profile may set FIRMWARE (UEFI image: -bios, which loads -kernel, -initrd
# and -append over fw_cfg) and KERNEL_ARGS (added to the command line).
FIRMWARE="" KERNEL_ARGS=""
"$fn"
base=$RESULTS/initramfs.cpio
[ "${NO_BUILD:-0}" = 1 ] && [ -e "$base" ] || bash "$TOP/scripts/initramfs.sh" "$kdir" "$base"
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
cp "$list" "$extra/tests.list"
(cd "$extra" && echo tests.list | cpio -o -H newc --quiet) >"$RUN_DIR/tests.cpio"
cat "$base" "$RUN_DIR/tests.cpio" >"$RUN_DIR/initramfs.cpio"

# deferred_probe_timeout: allnoconfig leaves the Kconfig default at 0, so devices
# behind a modular IOMMU would stop waiting for it before /init can modprobe it
# (test.config now sets 30 too; kept for kernels built without it).
# slub_debug only on the debug kernel: on the base (benchmark) kernel it would
# add red-zone and poison checks to every allocation of the measured paths.
slub=; [ "${KFLAVOUR:-debug}" = debug ] && slub=" slub_debug=FZP"
cmdline="console=ttyAMA0 panic=-1 oops=panic$slub deferred_probe_timeout=30 nest.timeout=${TEST_TIMEOUT:-600}${BENCH_SECONDS:+ bench.seconds=$BENCH_SECONDS}${KERNEL_ARGS:+ $KERNEL_ARGS}"
log "vm: $profile: $(wc -l <"$list") program(s), $(basename "$QEMU") $(${QEMU} --version | head -1 | awk '{print $4}')"
start=$SECONDS
rc=0
timeout -s KILL "${VM_TIMEOUT:-1500}" "$QEMU" -nographic -no-reboot -nic none \
	-cpu max -smp 2 -m "$MEM" "${QEMU_ARGS[@]}" ${FIRMWARE:+-bios "$FIRMWARE"} \
	-kernel "$kdir/arch/arm64/boot/Image" -initrd "$RUN_DIR/initramfs.cpio" \
	-append "$cmdline" </dev/null >"$RUN_DIR/console.log" 2>&1 || rc=$?
echo $((SECONDS - start)) >"$RUN_DIR/seconds"
((rc == 137)) && log "vm: $profile: killed after ${VM_TIMEOUT:-1500} s"

out=$(python3 "$TOP/scripts/parse-console.py" "$RUN_DIR/console.log" "$profile" "$list")
echo "$out" | grep -v '^counts '
read -r _ p f s <<<"$(echo "$out" | tail -1)"
echo "$p $f $s" >"$RUN_DIR/counts"
echo "$profile: $p passed, $f failed, $s skipped ($((SECONDS - start)) s; log $RUN_DIR/console.log)"
if ((f)); then
	echo "--- tail of $RUN_DIR/console.log ---"
	tail -n 40 "$RUN_DIR/console.log"
	exit 1
fi
