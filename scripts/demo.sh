#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: the main job (make demo). Sets everything up like make check, boots
# the test VMs and shows, a few lines per step, what the modules did there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step() { log "demo: $*"; }
mkdir -p "$RESULTS"
step "checking build dependencies"
bash "$TOP/scripts/deps.sh" >"$RESULTS/demo-deps.log" 2>&1 || { cat "$RESULTS/demo-deps.log"; exit 1; }
step "test kernel (built once, then cached)"
kdir=$(bash "$TOP/scripts/kernel.sh" debug)
step "kernel $(cat "$kdir/include/config/kernel.release") ready; building modules and selftests"
bash "$TOP/scripts/build.sh" "$kdir" >/dev/null

rc=0
for p in smmuv3 viommu; do
	step "booting QEMU profile '$p' ($(. "$TOP/scripts/profiles.sh"; RUN_DIR=$RESULTS/$p; "profile_$p"; echo "${QEMU_ARGS[*]}" | sed 's/-drive [^ ]* //'))"
	if ! bash "$TOP/scripts/vm.sh" "$p" demo-vm.sh >"$RESULTS/demo-$p.txt" 2>&1; then
		rc=1
	fi
	sed -n '/^### BEGIN demo-vm.sh/,/^### END/p' "$RESULTS/$p/console.log" | tr -d '\r' |
		grep -E '^(demo:|not ok)' | sed 's/^demo: /  /'
	tail -1 "$RESULTS/demo-$p.txt" | sed 's/^/  => /'
done
step "logs: $RESULTS/<profile>/console.log"
exit $rc
