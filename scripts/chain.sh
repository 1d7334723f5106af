#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chain.sh [--check]: the whole nested chain in one command.
#
#   L0  this x86 machine: QEMU TCG, profile nest-l1 (scripts/profiles.sh):
#       -M virt,iommu=smmuv3,virtualization=on -cpu max -device edu
#   L1  the test kernel with KVM, VFIO cdev, iommufd, SMMUv3; vfio_nest loaded;
#       edu bound to vfio-pci; the inner QEMU (scripts/chain/inner-qemu.sh)
#       starts
#   L2  the same kernel under KVM in L1 (TCG if L1 has no /dev/kvm) with
#       virtio-iommu-pci and edu assigned (vfio-pci + iommufd); the guest module
#       drives the virtio-iommu and the L2 tests (scripts/chain/l2.list) do DMA.
#
# L1 runs scripts/chain/l1.sh (setup, l2, after); the l2 step re-emits L2's
# results as its own TAP, so scripts/parse-console.py counts L1 and L2 results
# from L1's console. Prints a few lines per step and "chain: N passed, N failed,
# N skipped"; exits non-zero on any failure. --check: the same, for make check
# (per-test lines only for failures). --bench: instead of the tests, one L2 boot
# per scripts/chain/bench-*.list run (dma_map_benchmark on the assigned edu
# with each guest IOMMU driver); scripts/chain/bench.sh makes the table.
#
# Logs: results/chain/console.log (L1 console, L2's console inside it prefixed
# "l2| "), results/chain/summary.txt. Environment: NO_BUILD=1 (reuse modules,
# selftests and results/initramfs-debug.cpio), CHAIN_QEMU=auto|stock|patched (the L1
# QEMU), CHAIN_MODE=classic|table (guest module mode L2 must see; default:
# table with the patched inner QEMU, any with Debian's),
# CHAIN_INNER_QEMU=patched|debian (the inner VMM: the project's patched tree
# cross-built by scripts/chain/inner-qemu-build.sh, the default, which forwards
# table mode to /dev/vfio-nest; or Debian's arm64 binary, classic only),
# CHAIN_ACCEL=kvm|tcg (tcg forces L2 onto TCG), CHAIN_L2_KMEMLEAK=1 (kmemleak
# in L2 too; off by default, L1's is always on), VM_TIMEOUT (s, whole L1 run, default
# 1200), L2_TIMEOUT (s, the inner QEMU under KVM, default 300; 3x under TCG),
# KFLAVOUR (debug: L1's kernel flavour), CHAIN_L2_FLAVOUR (L2's, default
# L1's; e.g. KFLAVOUR=debug64k for a 64K-page L1 over L2's 4K tables, or
# CHAIN_L2_FLAVOUR=debug64k for L2's 64K tables over L1's 4K stage 2),
# RUN_NAME (the run's name in its result lines and results/, default
# chain).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/vmrun.sh"
. "$TOP/scripts/profiles.sh"

check=0 runs=(l2)
case ${1:-} in
--check) check=1 ;;
--bench) runs=(bench-in-tree bench-classic bench-table) ;;
"") ;;
*) die "usage: chain.sh [--check|--bench]" ;;
esac

say() { printf '[%(%H:%M:%S)T] chain: %s\n' -1 "$*"; }

name=${RUN_NAME:-chain}
RUN_DIR=$RESULTS/$name
mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR"/{console.log,summary.txt,counts}
t0=$SECONDS

l1fl=${KFLAVOUR:-debug} l2fl=${CHAIN_L2_FLAVOUR:-${KFLAVOUR:-debug}}
kdir=$(bash "$TOP/scripts/kernel.sh" "$l1fl")
kdir2=$(bash "$TOP/scripts/kernel.sh" "$l2fl")
# L2's flavour first, so that the tree ends built for L1's.
base2=""
[ "$l2fl" = "$l1fl" ] || base2=$(vm_base "$kdir2" "$l2fl")
base=$(vm_base "$kdir" "$l1fl")
base2=${base2:-$base}
image=$kdir/arch/arm64/boot/Image
image2=$kdir2/arch/arm64/boot/Image
case ${CHAIN_INNER_QEMU:-patched} in
debian) inner=$(bash "$TOP/scripts/chain/inner-qemu.sh") ;;
patched)
	bin=$(bash "$TOP/scripts/chain/inner-qemu-build.sh")
	inner=$(INNER_QEMU_BIN=$bin bash "$TOP/scripts/chain/inner-qemu.sh") ;;
*) die "CHAIN_INNER_QEMU is debian or patched" ;;
esac
say "L1 kernel $(cat "$kdir/include/config/kernel.release") ($l1fl), L2 $l2fl, inner QEMU $(cat "$inner/.version") (arm64, $(du -sh "$inner" | cut -f1))"

# L2: the base initramfs plus a test list per run (scripts/chain/RUN.list;
# programs missing from this checkout are dropped with a note, never silently).
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/l1/chain" "$stage/l1/selftests"
for run in "${runs[@]}"; do
	mkdir -p "$stage/$run/selftests"
	grep -v '^#' "$TOP/scripts/chain/$run.list" | awk 'NF' | while read -r prog args; do
		if [ -x "$TOP/selftests/out/$prog" ] || [ -f "$TOP/selftests/scripts/$prog" ] ||
		   [ -f "$stage/$run/selftests/$prog" ]; then
			echo "$prog${args:+ $args}"
		else
			say "L2 test $prog not built in this checkout: left out" >&2
		fi
	done >"$stage/$run/tests.list"
	(cd "$stage/$run" && find . -print0 | cpio --null -o -H newc --quiet) >"$stage/tests.cpio"
	cat "$base2" "$stage/tests.cpio" >"$stage/l1/chain/$run.cpio"
	cp "$stage/$run/tests.list" "$stage/l1/chain/$run.list"
	cp "$stage/$run/tests.list" "$RUN_DIR/$run.list"
done

# L1: the base initramfs, the chain payload, L1's test list.
cp -a "$inner"/. "$stage/l1/"
rm -f "$stage/l1/.done" "$stage/l1/.version"
cp "$image2" "$stage/l1/chain/Image"
# kmemleak in L2 costs about a minute nested (two scans of L2's RAM two
# levels down); the guest module's leaks are checked by the single-VM profiles.
l2cmd="kmemleak=off"
[ "${CHAIN_L2_KMEMLEAK:-0}" = 1 ] && l2cmd=""
# L2's console costs about 1 s per KiB nested (a trap per byte): its kernel
# log from warning level up, in full only when one of its programs failed.
l2cmd="$l2cmd nest.dmesg=warn"
# The patched inner QEMU must give the assigned edu table mode; Debian's cannot.
[ "${CHAIN_INNER_QEMU:-patched}" = patched ] && : "${CHAIN_MODE:=table}"
[ -n "${CHAIN_MODE:-}" ] && l2cmd="$l2cmd chain.mode=$CHAIN_MODE"
[ -n "${BENCH_SECONDS:-}" ] && l2cmd="$l2cmd bench.seconds=$BENCH_SECONDS"
echo "$l2cmd" >"$stage/l1/chain/l2.cmdline"
[ "${CHAIN_ACCEL:-kvm}" = tcg ] && touch "$stage/l1/chain/force-tcg"
steps=(setup)
for run in "${runs[@]}"; do
	[ "$run" = l2 ] && steps+=(l2) || steps+=("l2_$run")
done
steps+=(after)
for step in "${steps[@]}"; do
	cp "$TOP/scripts/chain/l1.sh" "$stage/l1/selftests/chain_l1_$step"
	chmod +x "$stage/l1/selftests/chain_l1_$step"
	echo "chain_l1_$step"
done >"$stage/l1/tests.list"
cp "$stage/l1/tests.list" "$RUN_DIR/tests.list"
(cd "$stage/l1" && find . -print0 | cpio --null -o -H newc --quiet) >"$stage/payload.cpio"
cat "$base" "$stage/payload.cpio" >"$RUN_DIR/initramfs.cpio"
rm -rf "$stage"
trap - EXIT

profile_nest_l1
l2to=${L2_TIMEOUT:-300}
# L2 gets l2to under KVM, 3 * l2to under TCG (scripts/chain/l1.sh).
vmto=${VM_TIMEOUT:-$((3 * l2to + 300))}
KERNEL_ARGS=""
cmdline=$(vm_cmdline "$l1fl" "nest.timeout=$((3 * l2to + 120)) chain.l2_timeout=$l2to")
say "booting L1: $QEMU ($($QEMU --version | head -1 | awk '{print $4}')), TCG, ${QEMU_ARGS[*]}, -m $MEM, initramfs $(($(stat -c %s "$RUN_DIR/initramfs.cpio") >> 20)) MB"
start=$SECONDS
VM_BACKGROUND=1 vm_boot "$image" "$RUN_DIR/initramfs.cpio" "$RUN_DIR/console.log" "$cmdline" "$vmto"
qpid=$VM_PID

# Narrate from the console while L1 runs.
# mawk reads its input in blocks unless told otherwise.
aw=(awk)
awk -W version 2>&1 | grep -q mawk && aw=(awk -W interactive)
tail -n +1 -F --pid=$qpid "$RUN_DIR/console.log" 2>/dev/null | "${aw[@]}" '
	function say(s) { printf "[%s] chain: %s\n", strftime("%H:%M:%S"), s; fflush() }
	{ sub(/\r$/, "") }
	/^### BOOTED/ && !l1 { l1 = 1; say("L1 at /init after " $5 " s (L1 clock)") }
	/^ok [0-9]+ l1: modprobe vfio_nest/ && !hm { hm = 1; say("L1: host module vfio_nest loaded, /dev/vfio-nest") }
	/^not ok [0-9]+ l1: / && !seen[$0]++ { say("L1: FAILED: " $0) }
	/^# cdev / && !cd { cd = 1; say("L1: edu bound to vfio-pci, " $3) }
	/^# vfio-nest-ctl info: caps/ && !cp { cp = 1; x = $0; sub(/.*caps */, "", x); say("L1: /dev/vfio-nest on edu offers: " x) }
	/^# L2: / && !l2[$0]++ { sub(/^# /, ""); say("starting " $0) }
	/^l2\| ### BOOTED/ { say("L2 at /init after " $6 " s (L2 clock)") }
	/^l2\| ### RUN/ { say("L2 runs " $4 " " $5 " " $6) }
	/^l2\| # .*mode / && !md { md = 1; x = $0; sub(/.*edu/, "edu", x); say("L2: " x) }
	/^l2\| # .*roundtrip:ok=/ && !rt { rt = 1; x = $0; sub(/.*roundtrip:/, "", x); say("L2 DMA: " x) }
	/^# L2 (kvm|tcg): / && !e2[$0]++ { sub(/^# /, ""); say($0) }
	/^bench: / && !bn[$0]++ { say("L2 " $0) }
	/^ok [0-9]+ l1: edu reusable/ && !ru { ru = 1; say("L1: edu back on an L1 driver, DMA ok") }
	/^### DONE/ && !dn { dn = 1; say("L1 done after " $4 " s (L1 clock)") }
' || true
rc=0
wait $qpid || rc=$?
secs=$((SECONDS - start))
((rc == 137)) && say "L1 killed after $vmto s"

vm_count "$RUN_DIR/console.log" "$name" "$RUN_DIR/tests.list" >"$RUN_DIR/summary.txt"
if ((check)); then
	grep -v '^  pass ' "$RUN_DIR/summary.txt" || true
else
	cat "$RUN_DIR/summary.txt"
fi
p=$VM_PASSED f=$VM_FAILED s=$VM_SKIPPED
echo "$p $f $s" >"$RUN_DIR/counts"
echo "$secs" >"$RUN_DIR/seconds"
# Timings for docs/chain.md and the report.
l2line=$(grep -o 'L2 \(kvm\|tcg\): [0-9.]* s from inner QEMU start to exit.*' "$RUN_DIR/console.log" | sort -u | head -3 | paste -sd ';' || true)
[ -n "$l2line" ] || l2line="L2: did not run"
echo "L1 wall $secs s; $l2line" >"$RUN_DIR/times.txt"
say "$l2line"
say "logs: $RUN_DIR/console.log (L2 lines prefixed 'l2| '), $RUN_DIR/summary.txt"
echo "$name: $p passed, $f failed, $s skipped ($((SECONDS - t0)) s; L1 run $secs s; log $RUN_DIR/console.log)"
if ((f)); then
	echo "--- tail of $RUN_DIR/console.log ---"
	tail -n 40 "$RUN_DIR/console.log"
	exit 1
fi
