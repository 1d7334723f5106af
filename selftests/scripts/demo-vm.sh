#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside a test VM for `make demo`: each step prints what it did in one
# readable line ("demo: ...") and a TAP result, so the harness can both show
# and check it. Steps adapt to the VM: host-side steps where an SMMU and edu
# are present, guest-side steps where a virtio-iommu is.
n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); echo "not ok $n $*"; }
say() { echo "demo: $*"; }
modlog() { dmesg | grep -E "$1" | tail -n "${2:-3}" | sed 's/^\[[ .0-9]*\] /demo:   dmesg: /'; }
# run_step NAME OUTFILE CMD...: one TAP result for CMD.
run_step() {
	name=$1 out=$2
	shift 2
	if "$@" >"$out" 2>&1; then ok "$name"; return 0; fi
	notok "$name"
	tail -n 5 "$out" | sed 's/^/demo:   /'
	return 1
}

echo "TAP version 13"
edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device 2>/dev/null | head -1 | xargs -r dirname | xargs -r basename)
viommu=$(grep -lx 0x0017 /sys/bus/virtio/devices/*/device 2>/dev/null | head -1)
smmu=$(ls -d /sys/class/iommu/smmu3.* 2>/dev/null | head -1)
say "kernel $(uname -r); IOMMU: ${smmu:+arm-smmu-v3 }${viommu:+virtio-iommu }; edu DMA engine at ${edu:-none}"

if [ -n "$smmu" ]; then
	if run_step "host module loaded" /tmp/mod.out modprobe vfio_nest; then
		say "host: vfio_nest loaded by modprobe, /dev/vfio-nest is $(ls -l /dev/vfio-nest | awk '{print $5 $6}')"
		modlog vfio_nest 1
		if [ -n "$edu" ] && run_step "host: GET_INFO" /tmp/info.out ./vfio-nest-ctl info; then
			sed 's/^/demo:   info: /' /tmp/info.out | head -8
			if ./vfio-nest-ctl attach --dma >/tmp/attach.out 2>&1; then
				ok "host: ATTACH_TABLE and nested DMA"
				sed 's/^/demo:   attach: /' /tmp/attach.out | head -8
			else
				say "host: ATTACH_TABLE refused here (this SMMU cannot nest):"
				tail -n 2 /tmp/attach.out | sed 's/^/demo:   attach: /'
			fi
		fi
	fi
	if [ -n "$edu" ] && run_step "edu DMA through arm-smmu-v3" /tmp/edu.out ./edu_smmu_test; then
		say "host: edu DMA through arm-smmu-v3 (VFIO + iommufd, no nesting): $(grep -c '^ok' /tmp/edu.out) checks passed"
	fi
	run_step "host module unloaded" /tmp/mod.out modprobe -r vfio_nest
fi

if [ -n "$viommu" ]; then
	if run_step "guest module loaded" /tmp/mod.out modprobe virtio_iommu_pgt; then
		drv=$(readlink "$(dirname "$viommu")/driver" 2>/dev/null | xargs -r basename)
		say "guest: virtio_iommu_pgt loaded, $(basename "$(dirname "$viommu")") bound to ${drv:-nothing}"
		modlog 'virtio_iommu_pgt .*mode' 1
		[ "$drv" = virtio_iommu_pgt ] && ok "guest driver bound" || notok "guest driver bound"
		if [ -n "$edu" ] && run_step "guest: edu DMA via the DMA API" /tmp/gdma.out ./guest_dma_test; then
			say "guest: edu DMA through the DMA API and virtio_iommu_pgt: $(grep -c '^ok' /tmp/gdma.out) checks passed"
		fi
		for g in /sys/kernel/iommu_groups/*; do
			[ -d "$g" ] || continue
			say "guest: iommu group $(basename "$g"): $(ls "$g/devices" | tr '\n' ' ')type $(cat "$g/type" 2>/dev/null)"
		done
	fi
fi
echo "1..$n"
