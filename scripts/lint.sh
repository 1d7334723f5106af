#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh KDIR: W=1 + sparse (C=2) module build with zero warnings, and
# checkpatch --strict on every C source and header of the project.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$1
# Lint the test build too: it holds guest/testing.c.
export VIOMMU_PGT_TEST=1
src=$(kernel_src)
arch=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
out=$RESULTS/lint
mkdir -p "$out"
rc=0

# C=2 rechecks every file, so the warnings of unchanged files are seen too.
sparse=$(bash "$TOP/scripts/sparse.sh")

# A pass is kept in the cache under the hash of everything lint reads: the
# same inputs give the same verdict, so it is not recomputed (LINT_FORCE=1
# recomputes it).
key=$(inputs_hash "$(sha256sum "$kdir/Module.symvers")" "$sparse" \
	"$(sha256sum "$src/scripts/checkpatch.pl")" "$(aarch64-linux-gnu-gcc --version | head -1)" \
	-- guest host common selftests Kbuild Makefile scripts/lint.sh scripts/sparse.sh)
pass=$CACHE/lint/$key
if [ "${LINT_FORCE:-0}" != 1 ] && [ -s "$pass" ]; then
	log "lint: inputs unchanged (key $key) since this pass: $(cat "$pass")"
	exit 0
fi
dirs=("$TOP")
[ -n "$(ls "$TOP"/selftests/kmod/*.c 2>/dev/null)" ] && dirs+=("$TOP/selftests/kmod")
: >"$out/build.log"
for d in "${dirs[@]}"; do
	make -C "$kdir" M="$d" "${arch[@]}" W=1 C=2 CHECK="$sparse" modules >>"$out/build.log" 2>&1 ||
		{ log "lint: build failed in $d"; rc=1; }
done
# The kernel skips an unusable sparse with a notice only: make that fatal.
if grep -q 'sparse is not available' "$out/build.log"; then
	log "lint: the kernel did not run sparse ($sparse)"
	rc=1
fi
if ! grep -q "CHECK " "$out/build.log" && ! grep -q "$sparse" "$out/build.log"; then
	log "lint: no file was checked by sparse"
	rc=1
fi
if grep -E 'warning:|error:' "$out/build.log" >"$out/warnings.txt"; then
	log "lint: W=1/sparse warnings:"
	cat "$out/warnings.txt" >&2
	rc=1
else
	log "lint: W=1 + sparse: no warnings"
fi

# ALLOC_WITH_SIZEOF wants kzalloc_obj(), which 6.1/6.12 kernels (DKMS targets)
# lack. The selftests are userspace: C types, volatile MMIO and plain shifts
# are right there.
checkpatch() {
	local ignore=$1; shift
	(cd "$TOP" && "$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore "FILE_PATH_CHANGES,ALLOC_WITH_SIZEOF$ignore" -f "$@") >>"$out/checkpatch.txt" 2>&1
}
: >"$out/checkpatch.txt"
mapfile -t kfiles < <(cd "$TOP" && git ls-files -co --exclude-standard -- \
	'host/*.[ch]' 'guest/*.[ch]' 'common/*.[ch]' 'selftests/kmod/*.[ch]' | sort -u)
mapfile -t ufiles < <(cd "$TOP" && git ls-files -co --exclude-standard -- 'selftests/*.[ch]' |
	grep -v '^selftests/kmod/' | sort -u)
cp_rc=0
((${#kfiles[@]} == 0)) || checkpatch "" "${kfiles[@]}" || cp_rc=1
((${#ufiles[@]} == 0)) || checkpatch ",PREFER_KERNEL_TYPES,VOLATILE,BIT_MACRO" "${ufiles[@]}" || cp_rc=1
if ((cp_rc == 0)); then
	log "lint: checkpatch --strict: $((${#kfiles[@]} + ${#ufiles[@]})) files clean"
else
	log "lint: checkpatch --strict:"
	grep -E '(ERROR|WARNING|CHECK):' "$out/checkpatch.txt" >&2 || cat "$out/checkpatch.txt" >&2
	rc=1
fi
if ((rc == 0)); then
	mkdir -p "$CACHE/lint"
	echo "$(date -u +%FT%TZ): W=1 + sparse no warnings, checkpatch --strict $((${#kfiles[@]} + ${#ufiles[@]})) files clean" >"$pass"
fi
exit $rc
