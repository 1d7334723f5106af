#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# invalidate.sh: what /dev/vfio-nest costs over raw iommufd, on the base
# kernel in the smmuv3-nest VM (selftests/host_bench_test.c): one INVALIDATE
# batch of 1, 16 and 256 entries against the same SMMU commands sent through
# IOMMU_HWPT_INVALIDATE by the VMM itself, and ATTACH_TABLE latency.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

export KFLAVOUR=base
tree=$(bench_tree)
RESULTS=$RESULTS/bench bash "$tree/scripts/vm.sh" smmuv3-nest host_bench_test \
	>"$RESULTS/bench-invalidate.log" 2>&1 ||
	log "bench: invalidate: the run failed (see $RESULTS/bench/smmuv3-nest/console.log)"
echo "/dev/vfio-nest INVALIDATE vs raw IOMMU_HWPT_INVALIDATE (TCG, base kernel, best of interleaved rounds)"
sed -n '/^### BEGIN host_bench_test/,/^### END/p' "$RESULTS/bench/smmuv3-nest/console.log" |
	tr -d '\r' | sed -n 's/^# bench: //p'
