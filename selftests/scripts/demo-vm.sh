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

echo "TAP version 13"
edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device 2>/dev/null | head -1 | xargs -r dirname | xargs -r basename)
viommu=$(grep -lx 0x0017 /sys/bus/virtio/devices/*/device 2>/dev/null | head -1)
smmu=$(ls -d /sys/class/iommu/smmu3.* 2>/dev/null | head -1)
say "kernel $(uname -r); IOMMU: ${smmu:+arm-smmu-v3 }${viommu:+virtio-iommu }; edu DMA engine at ${edu:-none}"

if [ -n "$smmu" ]; then
	if modprobe vfio_nest; then
		ok "host module loaded"
		say "host: vfio_nest loaded by modprobe, /dev/vfio-nest is $(ls -l /dev/vfio-nest | awk '{print $5 $6}')"
		modlog vfio_nest 2
		if [ -x ./vfio-nest-ctl ]; then
			./vfio-nest-ctl version 2>&1 | sed 's/^/demo:   vfio-nest-ctl: /'
		fi
	else
		notok "host module loaded"
	fi
	if [ -n "$edu" ] && [ -x ./edu_smmu_test ]; then
		if ./edu_smmu_test >/tmp/edu.out 2>&1; then
			ok "edu DMA through arm-smmu-v3"
			say "host: edu DMA round trip through arm-smmu-v3 via VFIO + iommufd: $(grep -c '^ok' /tmp/edu.out) checks passed"
		else
			notok "edu DMA through arm-smmu-v3"
			sed 's/^/demo:   /' /tmp/edu.out | tail -5
		fi
	fi
	modprobe -r vfio_nest && ok "host module unloaded" || notok "host module unloaded"
fi

if [ -n "$viommu" ]; then
	if modprobe virtio_iommu_pgt; then
		ok "guest module loaded"
		drv=$(readlink "$(dirname "$viommu")/driver" 2>/dev/null | xargs -r basename)
		say "guest: virtio_iommu_pgt loaded, $(basename "$(dirname "$viommu")") bound to ${drv:-nothing}"
		modlog 'virtio_iommu_pgt' 4
		[ "$drv" = virtio_iommu_pgt ] && ok "guest driver bound" || notok "guest driver bound"
		for g in /sys/kernel/iommu_groups/*; do
			[ -d "$g" ] || continue
			say "guest: iommu group $(basename "$g"): $(ls "$g/devices" | tr '\n' ' ')type $(cat "$g/type" 2>/dev/null)"
		done
	else
		notok "guest module loaded"
	fi
fi
echo "1..$n"
