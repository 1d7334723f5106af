#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh PROGRAM...: run the selftest programs one after the other, as
# kselftest's runner does: one TAP line per program, each program's own TAP
# output indented as comments. Each gets TIMEOUT seconds (default 600).
# Run as root on the arm64 machine or VM with the modules installed.
: "${TIMEOUT:=600}"
echo "TAP version 13"
echo "1..$#"
n=0 failed=0
out=$(mktemp)
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: iommu-nest: $(basename "$t")"
	if command -v timeout >/dev/null; then
		timeout "$TIMEOUT" "$t" >"$out" 2>&1
	else
		"$t" >"$out" 2>&1
	fi
	rc=$?
	sed 's/^/# /' "$out"
	case $rc in
	0) echo "ok $n selftests: iommu-nest: $(basename "$t")" ;;
	4) echo "ok $n selftests: iommu-nest: $(basename "$t") # SKIP" ;;
	*) echo "not ok $n selftests: iommu-nest: $(basename "$t") # exit=$rc"
	   failed=$((failed + 1)) ;;
	esac
done
rm -f "$out"
[ "$failed" = 0 ]
