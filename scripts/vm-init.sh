#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test VM: run /tests.list (PROGRAM [ARGS] per line), stream each
# program's output to the console, then, with the console quiet, dump every
# output, kmemleak's report and the kernel log between markers that
# scripts/parse-console.py reads.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Nodes of modules not loaded yet, as kmod static-nodes makes them at boot on
# a distribution: opening one loads its module (devname/char-major aliases).
grep -v '^#' "/lib/modules/$(uname -r)/modules.devname" 2>/dev/null |
while read -r mod name node; do
	case $node in
	c*:*) maj=${node#c}; mkdir -p "/dev/$(dirname "$name")"
	      [ -e "/dev/$name" ] || mknod "/dev/$name" c "${maj%:*}" "${node#*:}" ;;
	esac
done
# Kernels that need modules before the tests (Debian's, scripts/distro.sh)
[ -x /preinit.sh ] && /preinit.sh
set -o pipefail

echo "### BOOTED $(uname -r) uptime $(cut -d' ' -f1 /proc/uptime)"
leak=/sys/kernel/debug/kmemleak
[ -w $leak ] && echo clear > $leak

timeout_s=$(sed -n 's/.*nest.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
: "${timeout_s:=600}"
dmesg_level=$(sed -n 's/.*nest.dmesg=\([a-z]*\).*/\1/p' /proc/cmdline)
n=0 nfail=0
while read -r prog args; do
	[ -n "$prog" ] || continue
	n=$((n + 1))
	echo "### RUN $n $prog $args"
	start=$(cut -d' ' -f1 /proc/uptime)
	( cd /selftests && timeout -s KILL "$timeout_s" ./"$prog" $args ) 2>&1 | tee /tmp/out.$n
	rc=$?
	[ $rc -eq 0 ] || nfail=$((nfail + 1))
	echo "$prog $rc $start $(cut -d' ' -f1 /proc/uptime)" > /tmp/rc.$n
done < /tests.list

# kmemleak reports an object only when a scan finds it unreferenced and
# unchanged since the scan before, and at least 5 s old when that scan
# starts: a first scan now (a new object counts as changed in its first
# scan), the program outputs printed while the last program's objects age,
# the second scan once they are 5.5 s old.
if [ -w $leak ]; then
	end=$(cut -d' ' -f1 /proc/uptime)
	echo scan > $leak
fi
dmesg -n 1
for i in $(seq 1 $n); do
	read -r prog rc start end_i < /tmp/rc.$i
	echo "### BEGIN $prog"
	cat /tmp/out.$i
	echo "### END $prog rc=$rc start=$start end=$end_i"
done
if [ -w $leak ]; then
	usleep "$(awk -v e="$end" '{ w = e + 5.5 - $1; print (w > 0 ? int(w * 1000000) : 0) }' /proc/uptime)"
	echo scan > $leak
fi
if [ -r $leak ]; then
	echo "### BEGIN kmemleak"
	cat $leak
	echo "### END kmemleak"
fi
# nest.dmesg=warn (the chain's L2, whose console is slow two levels down):
# only records at warning level and above while every program passed;
# whatever the console parsers look for (WARNING, BUG, Oops, lockdep, call
# traces) is logged at those levels.
echo "### BEGIN dmesg"
if [ "$dmesg_level" = warn ] && [ $nfail -eq 0 ]; then
	dmesg -r | grep '^<[0-4]>'
else
	dmesg
fi
echo "### END dmesg"
echo "### DONE uptime $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
