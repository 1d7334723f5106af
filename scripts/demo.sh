#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: the main job (make demo). Sets everything up like make check, then
#   1. boots the host-side VM (arm-smmu-v3 + edu, patched QEMU with S2FWB):
#      vfio_nest reports the SMMU's formats, takes a stage-1 table and edu DMA
#      goes through both stages;
#   2. boots the guest-side VM (virtio-iommu with the page-table extension):
#      virtio_iommu_pgt binds in table mode and edu DMA goes through it;
#   3. runs the whole nested chain (scripts/chain.sh): an L2 guest with an
#      assigned edu behind the guest module, inside an L1 host running
#      vfio_nest under KVM.
# A few readable lines per step; logs under results/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step() { log "demo: $*"; }
mkdir -p "$RESULTS"
step "checking build dependencies"
bash "$TOP/scripts/deps.sh" >"$RESULTS/demo-deps.log" 2>&1 || { cat "$RESULTS/demo-deps.log"; exit 1; }
step "test kernel (built once, then cached)"
kdir=$(bash "$TOP/scripts/kernel.sh" debug)
host=smmuv3 guest=viommu
if [ -f "$TOP/vmm/qemu/build.sh" ]; then
	step "patched QEMU (built once, then cached)"
	bash "$TOP/vmm/qemu/build.sh" >"$RESULTS/demo-qemu.log" 2>&1 || { tail "$RESULTS/demo-qemu.log"; exit 1; }
	host=smmuv3-nest guest=viommu-pgt
fi
step "kernel $(cat "$kdir/include/config/kernel.release") ready; building modules and selftests"
bash "$TOP/scripts/build.sh" "$kdir" >/dev/null
bash "$TOP/scripts/initramfs.sh" "$kdir" "$RESULTS/initramfs-debug.cpio"

rc=0
for p in "$host" "$guest"; do
	step "booting QEMU profile '$p' ($(RUN_DIR=$RESULTS/$p; . "$TOP/scripts/profiles.sh"; "profile_${p//-/_}"; echo "${QEMU_ARGS[*]}" | sed 's/-drive [^ ]* //'))"
	NO_BUILD=1 KFLAVOUR=debug bash "$TOP/scripts/vm.sh" "$p" demo-vm.sh >"$RESULTS/demo-$p.txt" 2>&1 || rc=1
	sed -n '/^### BEGIN demo-vm.sh/,/^### END/p' "$RESULTS/$p/console.log" | tr -d '\r' |
		grep -E '^(demo:|not ok)' | sed 's/^demo: /  /'
	tail -1 "$RESULTS/demo-$p.txt" | sed 's/^/  => /'
done
if [ -f "$TOP/scripts/chain.sh" ]; then
	step "the whole chain: L1 host (vfio_nest, KVM) running an L2 guest (virtio_iommu_pgt) with edu assigned"
	NO_BUILD=1 bash "$TOP/scripts/chain.sh" || rc=1
fi
step "logs: $RESULTS/<profile>/console.log, $RESULTS/chain/"
exit $rc
