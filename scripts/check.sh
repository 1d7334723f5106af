#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [PROFILE...]: the project's whole test run (make check).
# Installs what it needs, builds (or reuses from the cache) the test kernels
# and the patched QEMU, lints, builds the selftests, proves dkms, boots each
# test VM profile of selftests/run.list (or only PROFILEs) in three lanes, runs
# the nested chain, the distro matrix and the live migrations, and ends
# with a time table and "N passed, N failed".
# Exit status is non-zero on any failure. CHECK_LANES (default 3): jobs at
# once; two lanes left a quarter of 2 cores idle (edu's DMA waits, the 5 s
# kmemleak wait before each VM's last scan).
# CHECK_SET=core: only the core suites (every profile on the debug kernel,
# host_nest_test on the debug kernel instead of the KASAN lane with its
# fuzzer and fail-nth, the chain, the distro matrix without its 16K row): the
# set whose warm time is held to 5 minutes. The KASAN, 16K, 64K and migration
# lanes report their own cost in the full run's time table.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/profiles.sh"

t0=$SECONDS
# Each job names its own run; one RUN_NAME from the caller would give them all
# one results/ directory.
unset RUN_NAME
core=0
[ "${CHECK_SET:-all}" = core ] && core=1
passed=0 failed=0 skipped=0
mkdir -p "$RESULTS"
summary=$RESULTS/summary.txt
times=$RESULTS/times.txt
: >"$summary"
: >"$times"

# result NAME STATUS SECONDS LOG: count one harness result (a test), print
# it and add it to the time table; on failure show the tail of LOG.
result() {
	local name=$1 rc=$2 secs=$3 logf=$4
	printf '%-22s %5s s\n' "$name" "$secs" >>"$times"
	if ((rc == 0)); then
		passed=$((passed + 1))
		echo "  pass  $name ($secs s)" | tee -a "$summary"
		return 0
	fi
	failed=$((failed + 1))
	echo "  FAIL  $name ($secs s; log $logf)" | tee -a "$summary"
	tail -n 30 "$logf"
	return 1
}

# tap_result NAME STATUS SECONDS: count a finished command that printed TAP
# to results/step-NAME.log; each of its results counts as one test (a failing
# command without a failing result counts one).
tap_result() {
	local name=$1 rc=$2 secs=$3 log=$RESULTS/step-$1.log p f
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	((rc != 0 && f == 0)) && f=1
	passed=$((passed + p)) failed=$((failed + f))
	echo "  $( ((f)) && echo FAIL || echo pass)  $name: $p passed, $f failed (log $log)" | tee -a "$summary"
	((f == 0)) || grep -E '^not ok' "$log" | head -20
	printf '%-22s %5d s\n' "$name" "$secs" >>"$times"
}

# lane_step NAME CMD...: run a harness step; its status and time go to
# results/step-NAME.{rc,secs} for fold_step (a VM lane is a subshell, so
# its steps are counted after the lanes).
lane_step() {
	local name=$1 t=$SECONDS rc=0; shift
	"$@" >"$RESULTS/step-$name.log" 2>&1 || rc=$?
	echo "$rc" >"$RESULTS/step-$name.rc"
	echo $((SECONDS - t)) >"$RESULTS/step-$name.secs"
}

# fold_step NAME [tap]: count a lane_step's result.
fold_step() {
	local name=$1 rc secs
	rc=$(cat "$RESULTS/step-$name.rc" 2>/dev/null || echo 1)
	secs=$(cat "$RESULTS/step-$name.secs" 2>/dev/null || echo '?')
	if [ "${2:-}" = tap ]; then
		tap_result "$name" "$rc" "$secs"
	else
		result "$name" "$rc" "$secs" "$RESULTS/step-$name.log"
	fi
}

# step NAME CMD...: run a harness step now; it counts as one test.
step() {
	lane_step "$@"
	fold_step "$1"
}

finish() {
	echo "check: time per step (wall; VM lanes overlap):"
	sed 's/^/  /' "$times"
	echo "check: $((SECONDS - t0)) s wall; results in $RESULTS"
	echo "$passed passed, $failed failed, $skipped skipped"
	((failed == 0))
	exit
}

step deps bash "$TOP/scripts/deps.sh" || finish
# The dependency stage again, into an empty cache, in the background: proves
# on every run that a fresh machine gets each artifact later steps read.
# After deps, not beside it: on a fresh machine both installed the system
# packages at once and one apt-get failed on the other's lock.
nice -n 19 bash "$TOP/scripts/deps-cold.sh" >"$RESULTS/step-deps-cold.log" 2>&1 &
cold_pid=$!
cold_t=$SECONDS
step harness bash "$TOP/scripts/harness-selftest.sh"
step docs python3 "$TOP/scripts/doc-check.py"

if (($#)); then
	profiles=("$@")
else
	mapfile -t profiles < <(awk '!/^#/ && NF { if (!seen[$1]++) print $1 }' "$TOP/selftests/run.list")
	((core)) &&
		mapfile -t profiles < <(for p in "${profiles[@]}"; do
			[ "$(profile_flavour "$p")" = debug ] && echo "$p"; done; echo core-host)
fi
mapfile -t flavours < <(for p in "${profiles[@]}"; do profile_flavour "$p"; done | sort -u)
for fl in "${flavours[@]}"; do
	step "kernel-$fl" bash "$TOP/scripts/kernel.sh" "$fl" || finish
done
[ -f "$TOP/vmm/qemu/build.sh" ] && { step qemu bash "$TOP/vmm/qemu/build.sh" || finish; }
# Modules are built in the tree, one flavour at a time: each flavour's
# initramfs is packed right after its build (or both come from the cache
# when no input changed).
for fl in "${flavours[@]}"; do
	kdir=$(bash "$TOP/scripts/kernel.sh" "$fl")
	step "build-$fl" bash "$TOP/scripts/build-image.sh" "$kdir" "$RESULTS/initramfs-$fl.cpio" || finish
done
kdir=$(bash "$TOP/scripts/kernel.sh" debug)

# static: the checks that boot no VM, one lane job: the qtests, then lint and
# dkms (both build in the tree, after every initramfs was packed above).
static_job() {
	[ -f "$TOP/vmm/qemu/build.sh" ] &&
		lane_step qemu-qtest bash "$TOP/vmm/qemu/build.sh" --check
	lane_step lint bash "$TOP/scripts/lint.sh" "$kdir"
	lane_step dkms bash "$TOP/scripts/dkms-test.sh" "$kdir"
}

# vm_counts NAME: fold results/NAME/counts ("passed failed skipped") of a
# finished VM script into the totals; every test in it counts.
vm_counts() {
	local name=$1 vp vf vs
	if [ -s "$RESULTS/$name/counts" ]; then
		read -r vp vf vs <"$RESULTS/$name/counts"
	else
		vp=0 vf=1 vs=0
	fi
	passed=$((passed + vp)) failed=$((failed + vf)) skipped=$((skipped + vs))
	grep -E "^$name: [0-9]+ passed" "$RESULTS/vm-$name.txt" >>"$summary" ||
		echo "$name: no result (log $RESULTS/vm-$name.txt)" >>"$summary"
	printf '%-22s %5s s\n' "vm $name" "$(cat "$RESULTS/$name/seconds" 2>/dev/null || echo '?')" >>"$times"
}

# lane JOB...: run VM jobs one after the other (a job is a profile name,
# "chain", "chain-64k", "core-host", "distro", "migrate" or "static").
run_job() {
	local j=$1 t=$SECONDS
	rm -f "$RESULTS/$j/counts"
	case $j in
	static) static_job ;;
	chain) NO_BUILD=1 bash "$TOP/scripts/chain.sh" --check ;;
	# L2's 64K io-pgtable tables as stage 1 over L1's 4K stage 2
	chain-64k) NO_BUILD=1 RUN_NAME=chain-64k CHAIN_L2_FLAVOUR=debug64k \
		bash "$TOP/scripts/chain.sh" --check ;;
	migrate) NO_BUILD=1 bash "$TOP/scripts/migrate.sh" ;;
	distro) DISTRO_NO_16K=$core bash "$TOP/scripts/distro.sh" ;;
	# core set: the host functional suite on the debug kernel
	core-host) KFLAVOUR=debug NO_BUILD=1 RUN_NAME=core-host \
		bash "$TOP/scripts/vm.sh" smmuv3-nest-kasan host_nest_test ;;
	*) NO_BUILD=1 bash "$TOP/scripts/vm.sh" "$j" ;;
	esac >"$RESULTS/vm-$j.txt" 2>&1
	echo $? >"$RESULTS/vm-$j.rc"
	mkdir -p "$CACHE/job-seconds"
	echo $((SECONDS - t)) >"$CACHE/job-seconds/$j"
}

# job_seconds JOB: what JOB took last time on this machine (kept in the
# cache, so that a clean clone schedules as well as a warm tree), 60 if
# it never ran.
job_seconds() {
	cat "$CACHE/job-seconds/$1" 2>/dev/null || echo 60
}
lane() {
	local j
	for j in "$@"; do run_job "$j"; done
}

# CHECK_LANES lanes, longest jobs first, each job to the lane that frees first (by
# job_seconds).
jobs=("${profiles[@]}" static)
(($#)) || jobs+=(chain distro)
(($#)) || ((core)) || jobs+=(chain-64k migrate)
mapfile -t jobs < <(for j in "${jobs[@]}"; do
	echo "$(job_seconds "$j") $j"
done | sort -rn | awk '{ print $2 }')
nl=${CHECK_LANES:-3}
declare -a lanes_jobs lanes_load
for ((i = 0; i < nl; i++)); do lanes_jobs[i]="" lanes_load[i]=0; done
for j in "${jobs[@]}"; do
	best=0
	for ((i = 1; i < nl; i++)); do
		((lanes_load[i] < lanes_load[best])) && best=$i
	done
	lanes_jobs[best]+=" $j"
	lanes_load[best]=$((lanes_load[best] + $(job_seconds "$j")))
done
vt=$SECONDS
pids=()
for ((i = 0; i < nl; i++)); do
	# shellcheck disable=SC2086
	lane ${lanes_jobs[i]} &
	pids+=($!)
done
wait "${pids[@]}"
printf '%-22s %5d s\n' "VM lanes ($nl)" $((SECONDS - vt)) >>"$times"
[ -f "$TOP/vmm/qemu/build.sh" ] && fold_step qemu-qtest tap
fold_step lint
fold_step dkms
for j in "${profiles[@]}"; do
	vm_counts "$j"
done
if ! (($#)); then
	vm_counts chain
	((core)) || { vm_counts chain-64k; vm_counts migrate; }
	# The distro matrix is one harness step.
	result distro "$(cat "$RESULTS/vm-distro.rc" 2>/dev/null || echo 1)" \
		"$(sed -n 's/.* \([0-9]*\) s; details.*/\1/p' "$RESULTS/vm-distro.txt" | tail -1)" \
		"$RESULTS/vm-distro.txt"
	cat "$RESULTS/distro/matrix.txt" 2>/dev/null
fi

rc=0
wait "$cold_pid" || rc=$?
result deps-cold "$rc" $((SECONDS - cold_t)) "$RESULTS/step-deps-cold.log"
# README's test count is this run's total (this check included).
(($#)) || ((core)) || step doc-count python3 "$TOP/scripts/doc-check.py" --count $((passed + failed + skipped + 1))
finish
