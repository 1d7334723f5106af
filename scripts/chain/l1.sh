#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Whole chain, run in L1 (the TCG "host machine" with SMMUv3 + EL2) as the test
# programs chain_l1_{setup,l2,after} of L1's /tests.list; prints TAP for scripts/parse-console.py.
#
#   chain_l1_setup   KVM present, vfio_nest loaded, edu bound to vfio-pci
#   chain_l1_l2[_RUN] start L2 with the inner QEMU (KVM, else TCG) and edu
#                    assigned through vfio-pci + iommufd; re-emit L2's results
#                    as this program's TAP ("l2: PROGRAM: TEST"), plus L2's
#                    own kernel-log, kmemleak and completion checks
#   chain_l1_after   L2 left L1 clean: no SMMU events, the device reusable by
#                    an L1 driver, vfio_nest unloads
#
# Payload (scripts/chain.sh): /usr/bin/qemu-system-aarch64 + libraries, /chain/Image,
# per L2 run RUN (default "l2"; benchmarks add others) /chain/RUN.cpio (L2
# initramfs with its tests.list) and /chain/RUN.list, /chain/l2.cmdline (extra
# L2 kernel parameters). The L2 console is written to /tmp/chain/RUN.log and
# streamed live to /dev/console prefixed with "l2| " (never parsed as L1
# sections); "bench: ..." lines of L2's programs are passed through.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
C=/chain
W=/tmp/chain
mkdir -p $W
n=0
fails=0

tap() { # tap RC NAME [DIAG]
	n=$((n + 1))
	[ -n "$3" ] && echo "# $3"
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

edu_bdf() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
			{ basename "$d"; return 0; }
	done
	return 1
}

setup() {
	echo "TAP version 13"
	echo "1..5"
	kvm=1
	[ -c /dev/kvm ] && kvm=0
	tap $kvm "l1: /dev/kvm present (nested virtualization)" \
		"$(dmesg | grep -m1 -o 'kvm \[[0-9]*\]: .*mode initialized.*' || echo 'kvm: no init line')"
	modprobe vfio_nest
	rc=$?
	[ -c /dev/vfio-nest ] || rc=1
	tap $rc "l1: modprobe vfio_nest, /dev/vfio-nest"
	bdf=$(edu_bdf)
	tap $? "l1: edu found" "edu at ${bdf:-none}"
	iommu=$(basename "$(readlink /sys/bus/pci/devices/$bdf/iommu 2>/dev/null)" 2>/dev/null)
	case $iommu in
	*smmu*) rc=0 ;;
	*) rc=1 ;;
	esac
	tap $rc "l1: edu behind L1's SMMUv3" "iommu ${iommu:-none}"
	echo 1234 11e8 > /sys/bus/pci/drivers/vfio-pci/new_id
	i=0
	while [ $i -lt 50 ] && ! ls /sys/bus/pci/devices/$bdf/vfio-dev/vfio* >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	cdev=$(basename "$(ls -d /sys/bus/pci/devices/$bdf/vfio-dev/vfio* 2>/dev/null)" 2>/dev/null)
	rc=1
	[ -n "$cdev" ] && [ -c /dev/vfio/devices/$cdev ] && rc=0
	tap $rc "l1: edu bound to vfio-pci" "cdev /dev/vfio/devices/${cdev:-none}"
	# What the host module offers for nesting here (diagnostic: IDR3.FWB is
	# set only by the patched L1 QEMU; table mode for the assigned edu needs it)
	if [ -x /selftests/vfio-nest-ctl ]; then
		/selftests/vfio-nest-ctl info 2>&1 | head -12 | sed 's/^/# vfio-nest-ctl info: /'
	fi
	echo "$bdf" > $W/bdf
	[ $fails = 0 ]
}

# Turn L2's console (vm-init.sh sections) into TAP lines of this program.
l2_results() {
	leakchk=1
	grep -q 'kmemleak=off' $C/l2.cmdline 2>/dev/null && leakchk=0
	awk -v n="$n" -v leakchk=$leakchk -v expected="$(cut -d' ' -f1 $C/$1.list | tr '\n' ' ')" '
	function tap(ok, name) {
		n++
		if (ok) print "ok " n " " name
		else { print "not ok " n " " name; fails++ }
	}
	BEGIN {
		bad = "WARNING: |BUG: |Oops|Unable to handle kernel|Kernel panic|" \
		      "possible circular locking|possible recursive locking|" \
		      "inconsistent lock state|suspicious RCU usage|list_(add|del) corruption|" \
		      "Call trace:|INFO: task .* blocked for more than|soft lockup|UBSAN:|KASAN:"
	}
	{ sub(/\r$/, "") }
	/^### BEGIN / { cur = $3; got[cur] = 1; res[cur] = 0; next }
	/^### END / && cur == $3 {
		rc = $0; sub(/.* rc=/, "", rc); sub(/ .*/, "", rc)
		closed[cur] = 1; rcs[cur] = rc; cur = ""; next
	}
	/^### DONE/ { done = 1 }
	cur == "kmemleak" { if (/unreferenced object/) leak++; next }
	cur == "dmesg" { if ($0 ~ bad) { nbad++; if (nbad <= 10) badl[nbad] = $0 }; next }
	cur != "" && /^(not )?ok [0-9]+ / {
		ok = ($1 == "ok"); name = $0
		sub(/^(not )?ok [0-9]+ /, "", name)
		res[cur]++
		n++
		if (ok) print "ok " n " l2: " cur ": " name
		else { print "not ok " n " l2: " cur ": " name; fails++ }
		next
	}
	cur != "" && /^#/ { print "#   " cur ": " substr($0, 2) }
	cur != "" && /^bench: / { print }
	END {
		split(expected, ex, " ")
		for (i in ex) {
			p = ex[i]
			if (p == "") continue
			if (!got[p]) { tap(0, "l2: " p ": ran"); continue }
			tap(closed[p] && rcs[p] == "0" && res[p] > 0,
			    "l2: " p ": exited 0 with results (rc=" rcs[p] ")")
		}
		if (nbad) for (i = 1; i <= nbad && i <= 10; i++) print "# l2 kernel: " badl[i]
		tap(got["dmesg"] && !nbad, "l2: kernel log clean (no warning, oops, lockdep)")
		# kmemleak=off in L2 by default (scripts/chain.sh: its scans cost a
		# minute nested); vm-init.sh prints an empty section then.
		if (leakchk) tap(got["kmemleak"] && !leak, "l2: kmemleak clean")
		tap(done, "l2: reached the end of its test list")
		print "# l2_fails " fails + 0
	}' $W/$1.log
}

# l2 RUN: boot L2 with $C/RUN.cpio, whose test list is $C/RUN.list.
l2() {
	run=$1
	L=$W/$run
	bdf=$(cat $W/bdf 2>/dev/null || edu_bdf)
	echo "TAP version 13"
	if [ -c /dev/kvm ] && [ ! -e $C/force-tcg ]; then
		accel="-accel kvm -cpu host"
		mode=kvm
	else
		accel="-accel tcg -cpu max"
		mode=tcg
	fi
	l2to=$(sed -n 's/.*chain.l2_timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
	: "${l2to:=300}"
	# L2 under TCG in TCG is ~6x slower (measured: 537 s against 65-114 s)
	[ $mode = tcg ] && l2to=$((l2to * 3))
	cmdline="console=ttyAMA0 quiet panic=-1 oops=panic deferred_probe_timeout=30 nest.timeout=$((l2to - 20)) $(cat $C/l2.cmdline 2>/dev/null)"
	echo "# L2: $mode, edu $bdf assigned, $(wc -l < $C/$run.list) program(s) ($run), timeout ${l2to}s"
	echo "# L2 cmdline: $cmdline"
	# With table mode forwarded to vfio-nest, a migration of L2 must be
	# refused while edu's table is on the host SMMU: the inner QEMU gets an
	# HMP monitor on two FIFOs, and the follower asks for a migration when
	# L2 starts guest_dma_test (chain_l2_test attached edu's table before).
	mon=""
	if [ "$run" = l2 ] && grep -q 'chain.mode=table' $C/l2.cmdline 2>/dev/null; then
		rm -f $L.mon.in $L.mon.out
		mknod $L.mon.in p && mknod $L.mon.out p
		# Opened read-write, neither end ever blocks: not on open before
		# QEMU has them, not on write after it exited.
		exec 3<>$L.mon.in
		cat 0<>$L.mon.out > $L.mon.log &
		monpid=$!
		mon="-chardev pipe,id=mon,path=$L.mon -mon chardev=mon,mode=readline"
	fi
	t0=$(uptime_s)
	: > $L.log
	# L2's console goes straight to a file: a pipe read by a shell loop in
	# L1 throttled it. A follower streams it live to L1's console.
	sh -c "echo \$\$ > $L.tail.pid; exec tail -n +1 -f $L.log" | while IFS= read -r line; do
		echo "l2| $line" > /dev/console
		case $line in
		"### "*)
			echo "$(uptime_s) ${line%% uptime*}" >> $L.marks
			case $line in
			"### RUN "*" guest_dma_test"*)
				[ -n "$mon" ] && echo "migrate unix:$W/no-such-socket" >&3 ;;
			"### BEGIN"*) [ -e $L.dump ] || uptime_s > $L.dump ;;
			"### DONE"*) uptime_s > $L.done ;;
			esac ;;
		esac
	done &
	# shellcheck disable=SC2086
	timeout -s KILL "$l2to" qemu-system-aarch64 $accel -M virt,gic-version=3 -smp 1 -m 256M \
		-display none -monitor none $mon -serial file:$L.log -no-reboot -nic none \
		-object iommufd,id=i0 -device virtio-iommu-pci \
		-device vfio-pci,host="$bdf",iommufd=i0 \
		-kernel $C/Image -initrd $C/$run.cpio -append "$cmdline" \
		</dev/null > $L.qemu.out 2>&1
	t1=$(uptime_s)
	sleep 1
	kill "$(cat $L.tail.pid)" 2>/dev/null
	[ -n "$mon" ] && kill $monpid 2>/dev/null && exec 3>&-
	wait
	echo "$t0 $t1" > $L.time
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	booted=$(sed -n 's/^### BOOTED .* uptime \([0-9.]*\).*/\1/p' $L.log | head -1)
	grep -q '^### DONE' $L.log
	tap $? "l2: inner QEMU ($mode) ran L2 to poweroff" \
		"L2 $mode: ${secs} s from inner QEMU start to exit, L2 kernel at /init after ${booted:-?} s (L2 clock)"
	if [ -n "$mon" ]; then
		grep -q 'vfio-nest.*cannot migrate' $L.mon.log
		tap $? "l2: migration refused while edu's table is on the host SMMU" \
			"$(grep -m1 -o 'Error: .*' $L.mon.log || echo 'inner QEMU monitor: no error line')"
	fi
	# When L2's milestones reached L1 (L1 clock, from the inner QEMU start)
	awk -v t0="$t0" '{ printf "# L2 at +%.1f s: %s\n", $1 - t0, substr($0, index($0, $2)) }' \
		$L.marks 2>/dev/null
	head -5 $L.qemu.out | sed 's/^/# inner qemu: /'
	l2_results "$run" > $L.tap
	grep -v '^# l2_fails' $L.tap
	n=$((n + $(grep -cE '^(not )?ok ' $L.tap)))
	f=$(sed -n 's/^# l2_fails //p' $L.tap)
	fails=$((fails + ${f:-1}))
	echo "1..$n"
	[ $fails = 0 ]
}

after() {
	bdf=$(cat $W/bdf 2>/dev/null || edu_bdf)
	echo "TAP version 13"
	echo "1..5"
	# SMMU events (faults) are expected while L2's tests run (guest_dma_test's
	# use-after-unmap check); none once they are over (L2 dumping its results
	# with the DMA loop of chain_l2_shutdown_test running, L2's poweroff, the
	# inner QEMU's teardown), and no storm.
	dmesg | grep 'arm-smmu-v3.*event 0x' > $W/events || true
	ev=$(wc -l < $W/events)
	# Allowed windows: from each inner QEMU's start to its L2's first dump.
	win=""
	for t in $W/*.time; do
		r=${t%.time}
		read -r start end < "$t"
		win="$win $start $(cat "$r.dump" 2>/dev/null || echo "$end")"
	done
	late=$(awk -v win="$win" 'BEGIN { nw = split(win, w, " ") }
		{ s = $0; sub(/^\[ */, "", s); sub(/\].*/, "", s); ok = 0
		  for (i = 1; i < nw; i += 2) if (s + 0 >= w[i] + 0 && s + 0 <= w[i + 1] + 0) ok = 1
		  if (!ok) n++ }
		END { print n + 0 }' $W/events)
	tap $([ "$late" = 0 ] && echo 0 || echo 1) "l1: no SMMU event from L2's last DMA to its poweroff and after" \
		"$ev SMMU event(s) in L1, $late outside L2's test phases"
	tap $([ "$ev" -lt 500 ] && echo 0 || echo 1) "l1: no SMMU fault storm (< 500 events)"
	# The device goes back from vfio-pci to a host driver and does DMA
	echo 1234 11e8 > /sys/bus/pci/drivers/vfio-pci/remove_id
	echo "$bdf" > /sys/bus/pci/drivers/vfio-pci/unbind
	rc=$?
	tap $rc "l1: edu released by vfio-pci"
	modprobe edu_dma && echo "$bdf" > /sys/bus/pci/drivers/edu_dma/bind 2>/dev/null
	ls /sys/bus/pci/drivers/edu_dma/$bdf >/dev/null 2>&1 || echo "$bdf" > /sys/bus/pci/drivers_probe
	echo "4 4096" > /sys/kernel/debug/edu_dma/roundtrip
	rc=$?
	tap $rc "l1: edu reusable in L1 (DMA round trips on L1's SMMUv3)" \
		"$(cat /sys/kernel/debug/edu_dma/result 2>/dev/null)"
	rmmod edu_dma && rmmod vfio_nest
	rc=$?
	tap $rc "l1: vfio_nest unloads after L2"
	[ $fails = 0 ]
}

# Installed as chain_l1_setup, chain_l1_l2[_RUN], chain_l1_after (one output
# section each in L1's console); "chain_l1 STEP" works too.
step=${0##*/}
step=${step#chain_l1}
step=${step#_}
[ -n "$step" ] || step=${1:-}
case $step in
setup) setup ;;
l2) l2 l2 ;;
l2_*) l2 "${step#l2_}" ;;
after) after ;;
*) echo "usage: chain_l1 setup|l2|l2_RUN|after" >&2; exit 2 ;;
esac
