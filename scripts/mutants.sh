#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh [NAME...]: make mutants. For each mutation of
# scripts/mutants.list (or only NAMEs): copy the tree, apply the mutation
# (a perl substitution that must match), rebuild, boot its profile with the test
# that should catch it, and classify the run:
#   killed     a test failed by an assertion, or kmemleak reported a leak
#              (the mutation was seen)
#   timeout    a test or the VM timed out (not a kill: the list must name a
#              test that fails fast)
#   SURVIVED   every test passed
# A baseline run of each (profile, test) on the unmutated tree comes first:
# a test red without a mutation proves nothing. Prints a table and writes it
# to results/mutants/table.md. Exit status: non-zero unless every mutant is
# killed and every baseline passes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$RESULTS/mutants
mkdir -p "$out"
work=$(mktemp -d /var/tmp/iommu-nest-mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TEST_TIMEOUT=${TEST_TIMEOUT:-300} VM_TIMEOUT=${VM_TIMEOUT:-900}

# The selected lines of mutants.list, as NAME|FILE|SUBST|PROFILE|PROGRAM
mapfile -t lines < <(grep -v '^#' "$TOP/scripts/mutants.list" | grep . |
	sed 's/ | /|/g')
if (($#)); then
	mapfile -t lines < <(for n in "$@"; do printf '%s\n' "${lines[@]}" | grep "^$n|" ||
		die "no mutant $n in scripts/mutants.list"; done)
fi

# tree DIR: a copy of the work tree (build products kept: rebuilds are
# incremental), without results and git.
tree() {
	mkdir -p "$1"
	tar -C "$TOP" --exclude=./results --exclude=./.git -cf - . | tar -C "$1" -xf -
}

# run DIR TAG PROFILE PROGRAM: build DIR's modules and boot PROFILE running
# PROGRAM; prints the classification and the names of failed tests.
run() {
	local dir=$1 tag=$2 profile=$3 program=$4 log=$out/$2.log rc=0 failed
	RESULTS=$work/results-$tag bash "$dir/scripts/vm.sh" "$profile" "$program" >"$log" 2>&1 || rc=$?
	cp "$work/results-$tag/$profile/console.log" "$out/$tag.console.log" 2>/dev/null || true
	# The failed tests: how many, and the first three by name.
	failed=$(grep -E '^not ok [0-9]+ ' "$out/$tag.console.log" 2>/dev/null |
		 sed -E 's/^not ok [0-9]+ //' | sort -u |
		 awk '{ n++; if (n <= 3) s = s (n > 1 ? ", " : "") $1 }
		      END { if (n) printf "%d: %s%s", n, s, (n > 3 ? ", ..." : "") }')
	# A leak fails the VM through kmemleak's report, not a test.
	[ -z "$failed" ] && grep -q 'unreferenced object' "$out/$tag.console.log" 2>/dev/null &&
		failed="kmemleak: $(grep -c 'unreferenced object' "$out/$tag.console.log") unreferenced object(s)"
	if ((rc != 0)) && grep -qE 'killed after|terminated by timeout|### END .* rc=137 ' \
		"$out/$tag.console.log" "$log" 2>/dev/null; then
		echo "timeout ${failed:--}"
	elif ((rc != 0)) && [ -n "$failed" ]; then
		echo "killed $failed"
	elif ((rc != 0)); then
		echo "error (see $log)"
	else
		echo "passed -"
	fi
}

table=$out/table.md
{
	echo "| mutant | file | profile | test | result | tests that failed |"
	echo "|---|---|---|---|---|---|"
} >"$table"
bad=0 nb=0
declare -A base=()
tree "$work/base"
for l in "${lines[@]}"; do
	IFS='|' read -r name file subst profile program <<<"$l"
	key="$profile|$program"
	[ -n "${base[$key]:-}" ] && continue
	log "mutants: baseline $profile: $program"
	nb=$((nb + 1))
	base[$key]=$(run "$work/base" "baseline-$nb" "$profile" "$program")
	[[ ${base[$key]} == passed* ]] || bad=1
	echo "| (none) | - | $profile | $program | baseline ${base[$key]%% *} | ${base[$key]#* } |" >>"$table"
done
for l in "${lines[@]}"; do
	IFS='|' read -r name file subst profile program <<<"$l"
	rm -rf "$work/m"
	tree "$work/m"
	if ! perl -0 -i -pe "\$n += ($subst); END { exit(!\$n) }" "$work/m/$file"; then
		log "mutants: $name: the substitution does not match $file"
		echo "| $name | $file | $profile | $program | NOT APPLIED | - |" >>"$table"
		bad=1
		continue
	fi
	log "mutants: $name: $profile: $program"
	r=$(run "$work/m" "$name" "$profile" "$program")
	case $r in
	killed*) res=killed ;;
	passed*) res=SURVIVED; bad=1 ;;
	*) res=${r%% *}; bad=1 ;;
	esac
	echo "| $name | $file | $profile | $program | $res | ${r#* } |" >>"$table"
done
cat "$table"
((bad == 0))
