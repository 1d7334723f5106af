#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh KDIR: W=1 + sparse (C=2) module build with zero warnings, and
# checkpatch --strict on every C source and header of the project.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$1
src=$CACHE/src/linux-source-$KVER_MAJOR
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
out=$RESULTS/lint
mkdir -p "$out"
rc=0

# C=2 rechecks every file, so the warnings of unchanged files are seen too.
dirs=("$TOP")
[ -n "$(ls "$TOP"/selftests/kmod/*.c 2>/dev/null)" ] && dirs+=("$TOP/selftests/kmod")
: >"$out/build.log"
for d in "${dirs[@]}"; do
	make -C "$kdir" M="$d" "${arch[@]}" W=1 C=2 modules >>"$out/build.log" 2>&1 ||
		{ log "lint: build failed in $d"; rc=1; }
done
if grep -E 'warning:|error:' "$out/build.log" >"$out/warnings.txt"; then
	log "lint: W=1/sparse warnings:"
	cat "$out/warnings.txt" >&2
	rc=1
else
	log "lint: W=1 + sparse: no warnings"
fi

mapfile -t files < <(cd "$TOP" && git ls-files -co --exclude-standard -- \
	'host/*.[ch]' 'guest/*.[ch]' 'common/*.[ch]' 'selftests/*.[ch]' 'selftests/kmod/*.[ch]' | sort -u)
if ((${#files[@]})); then
	if (cd "$TOP" && "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES -f "${files[@]}") >"$out/checkpatch.txt" 2>&1; then
		log "lint: checkpatch --strict: ${#files[@]} files clean"
	else
		log "lint: checkpatch --strict:"
		grep -E '(ERROR|WARNING|CHECK):' "$out/checkpatch.txt" >&2 || cat "$out/checkpatch.txt" >&2
		rc=1
	fi
fi
exit $rc
