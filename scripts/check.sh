#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [PROFILE...]: the project's whole test run (make check).
# Installs what it needs, builds (or reuses from the cache) the debug test
# kernel and the patched QEMU, lints, builds the selftests, proves dkms, boots
# each test VM profile of selftests/run.list (or only PROFILEs) and ends with
# "N passed, N failed". Exit status is non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

t0=$SECONDS
passed=0 failed=0 skipped=0
mkdir -p "$RESULTS"
summary=$RESULTS/summary.txt
: >"$summary"

# step NAME CMD...: run a harness step; it counts as one test.
step() {
	local name=$1 t=$SECONDS; shift
	if "$@" >"$RESULTS/step-$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "  pass  $name ($((SECONDS - t)) s)" | tee -a "$summary"
	else
		failed=$((failed + 1))
		echo "  FAIL  $name ($((SECONDS - t)) s; log $RESULTS/step-$name.log)" | tee -a "$summary"
		tail -n 30 "$RESULTS/step-$name.log"
		return 1
	fi
}

# tap_step NAME CMD...: run a command that prints TAP; each of its results
# counts as one test (a failing command without a failing result counts one).
tap_step() {
	local name=$1 log=$RESULTS/step-$1.log p f; shift
	"$@" >"$log" 2>&1
	local rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	((rc != 0 && f == 0)) && f=1
	passed=$((passed + p)) failed=$((failed + f))
	echo "  $( ((f)) && echo FAIL || echo pass)  $name: $p passed, $f failed (log $log)" | tee -a "$summary"
	((f == 0)) || grep -E '^not ok' "$log" | head -20
}

finish() {
	echo "check: $((SECONDS - t0)) s wall; results in $RESULTS"
	echo "$passed passed, $failed failed, $skipped skipped"
	((failed == 0))
	exit
}

step deps bash "$TOP/scripts/deps.sh" || finish
step harness bash "$TOP/scripts/harness-selftest.sh"
step kernel bash "$TOP/scripts/kernel.sh" debug || finish
kdir=$(bash "$TOP/scripts/kernel.sh" debug)
log "check: kernel $(cat "$kdir/include/config/kernel.release") ($kdir, built in $(cat "$kdir/build-seconds") s)"
if [ -f "$TOP/vmm/qemu/build.sh" ]; then
	step qemu bash "$TOP/vmm/qemu/build.sh" || finish
	tap_step qemu-qtest bash "$TOP/vmm/qemu/build.sh" --check
fi
step build bash "$TOP/scripts/build.sh" "$kdir" || finish
step lint bash "$TOP/scripts/lint.sh" "$kdir"
step dkms bash "$TOP/scripts/dkms-test.sh" "$kdir"
step distro bash "$TOP/scripts/distro.sh"; cat "$RESULTS/distro/matrix.txt" 2>/dev/null
NO_BUILD=1 bash "$TOP/scripts/initramfs.sh" "$kdir" "$RESULTS/initramfs.cpio"

if (($#)); then
	profiles=("$@")
else
	mapfile -t profiles < <(awk '!/^#/ && NF { if (!seen[$1]++) print $1 }' "$TOP/selftests/run.list")
fi
# vm_counts NAME CMD...: run a VM script that leaves results/NAME/counts
# ("passed failed skipped"); every test in it counts.
vm_counts() {
	local name=$1 vp vf vs; shift
	rm -f "$RESULTS/$name/counts"
	"$@" | tee "$RESULTS/vm-$name.txt"
	if [ -s "$RESULTS/$name/counts" ]; then
		read -r vp vf vs <"$RESULTS/$name/counts"
	else
		vp=0 vf=1 vs=0
	fi
	passed=$((passed + vp)) failed=$((failed + vf)) skipped=$((skipped + vs))
	grep -E "^$name: [0-9]+ passed" "$RESULTS/vm-$name.txt" >>"$summary" || true
}
for p in "${profiles[@]}"; do
	vm_counts "$p" env NO_BUILD=1 bash "$TOP/scripts/vm.sh" "$p"
done
# The nested chain (L1 TCG + SMMUv3, L2 under KVM in L1 with edu assigned;
# ~2-2.5 min warm), in full runs only; alone: bash scripts/chain.sh.
(($#)) || vm_counts chain env NO_BUILD=1 bash "$TOP/scripts/chain.sh" --check
finish
