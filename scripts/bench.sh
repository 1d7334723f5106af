#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [NAME...]: make bench. Runs every benchmark in scripts/bench/ (or
# only NAMEs). Each prints its table (numbers and ratios side by side) and
# writes it to results/bench-NAME.txt. Benchmarks measure; they never assert
# on timing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mkdir -p "$RESULTS"
bash "$TOP/scripts/deps.sh" >/dev/null
if (($#)); then
	benches=("$@")
else
	mapfile -t benches < <(ls "$TOP"/scripts/bench/*.sh 2>/dev/null | xargs -rn1 basename | sed 's/\.sh$//')
fi
((${#benches[@]})) || die "no benchmarks in scripts/bench/"
rc=0
for b in "${benches[@]}"; do
	log "bench: $b"
	bash "$TOP/scripts/bench/$b.sh" | tee "$RESULTS/bench-$b.txt" || rc=1
done
exit $rc
