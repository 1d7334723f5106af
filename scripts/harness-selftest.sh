#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# harness-selftest.sh: the console parser must turn every kind of bad run into
# a failure. Feeds it synthetic console logs and checks the counts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'good_test\n' >"$tmp/list"
fails=0

# expect NAME PASSED FAILED: parse $tmp/log, compare the counts.
expect() {
	local got
	got=$(python3 "$TOP/scripts/parse-console.py" "$tmp/log" selftest "$tmp/list" | tail -1)
	if [ "$got" = "counts $2 $3 0" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected 'counts $2 $3 0', got '$got'"
		fails=$((fails + 1))
	fi
}

good() {
	cat <<'LOG'
### BOOTED 7.2.13 uptime 2.6
### BEGIN good_test
TAP version 13
1..2
ok 1 global.a
ok 2 global.b
### END good_test rc=0 start=3 end=4
### BEGIN kmemleak
### END kmemleak
### BEGIN dmesg
[    1.0] arm-smmu-v3 9050000.smmuv3: oas 44-bit
### END dmesg
### DONE uptime 5.0
LOG
}

good >"$tmp/log"
expect "clean run" 2 0
good | sed 's/^ok 2 global.b/not ok 2 global.b/' >"$tmp/log"
expect "failing test" 1 1
good | sed 's/rc=0/rc=137/' >"$tmp/log"
expect "test killed by timeout" 2 1
good | sed 's/^ok 2 global.b/ok 2 global.b\n/; s/rc=0/rc=1/' >"$tmp/log"
expect "non-zero exit without a failing test" 2 1
good | sed '/^### DONE/d' >"$tmp/log"
expect "VM died before the end" 2 1
good | sed '/^### BEGIN good_test/,/^### END good_test/d' >"$tmp/log"
expect "program never ran" 0 1
good | sed 's/^\[    1.0\] arm-smmu.*/[    9.1] WARNING: CPU: 1 PID: 77 at drivers\/iommu\/x.c:10/' >"$tmp/log"
expect "kernel warning" 2 1
good | sed 's/^\[    1.0\] arm-smmu.*/[    9.1] WARNING: possible circular locking dependency detected/' >"$tmp/log"
expect "lockdep splat" 2 1
good | sed 's/^### BEGIN kmemleak/### BEGIN kmemleak\nunreferenced object 0xffff000001234000 (size 64):/' >"$tmp/log"
expect "kmemleak report" 2 1
good | sed 's/^### END good_test.*//' >"$tmp/log"
expect "unterminated output" 2 1
good | sed "s/^\[    1.0\] arm-smmu.*/[    9.1] vfio_nest: version magic '7.2.13-iommu-nest SMP' should be '7.2.13-iommu-nest-kasan SMP'/" >"$tmp/log"
expect "module built for another kernel" 2 1
((fails == 0)) || die "$fails parser check(s) failed"
