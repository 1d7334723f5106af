#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench-dma-vm.sh LABEL MODULE|- TYPE...: inside a test VM, load MODULE (the
# IOMMU driver under test, "-" for none), then for each iommu group TYPE
# (identity, DMA = strict, DMA-FQ = lazy) bind edu to the kernel's
# dma_map_benchmark driver and measure map/unmap latency at granule 1 and 16.
# Prints "bench: LABEL TYPE GRANULE MAP_US UNMAP_US" lines and TAP.
label=$1 mod=$2
shift 2
secs=${BENCH_SECONDS:-4}
n=0
echo "TAP version 13"
if [ "$mod" != - ]; then
	modprobe "$mod" || { echo "not ok 1 load $mod"; exit 1; }
fi
edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device | head -1 | xargs dirname | xargs basename)
dev=/sys/bus/pci/devices/$edu
group=$(basename "$(readlink "$dev/iommu_group")")
echo "# edu $edu in iommu group $group ($(cat /sys/kernel/iommu_groups/"$group"/type))"
echo dma_map_benchmark > "$dev/driver_override"
for type in "$@"; do
	[ -e "$dev/driver" ] && echo "$edu" > "$dev/driver/unbind"
	n=$((n + 1))
	if ! echo "$type" > /sys/kernel/iommu_groups/"$group"/type; then
		echo "not ok $n $label: set group type $type"
		continue
	fi
	echo "$edu" > /sys/bus/pci/drivers_probe
	if [ "$(readlink "$dev/driver" | xargs basename)" != dma_map_benchmark ]; then
		echo "not ok $n $label $type: edu not bound to dma_map_benchmark"
		continue
	fi
	echo "ok $n $label $type: edu bound to dma_map_benchmark"
	for g in 1 16; do
		n=$((n + 1))
		out=$(./dma_map_benchmark -t 1 -s "$secs" -g "$g" -x 28 -d 0 2>&1)
		map=$(echo "$out" | sed -n 's/^average map latency(us):\([0-9.]*\).*/\1/p')
		unmap=$(echo "$out" | sed -n 's/^average unmap latency(us):\([0-9.]*\).*/\1/p')
		if [ -n "$map" ] && [ -n "$unmap" ]; then
			echo "bench: $label $type $g $map $unmap"
			echo "ok $n $label $type granule $g"
		else
			echo "$out" | sed 's/^/# /'
			echo "not ok $n $label $type granule $g"
		fi
	done
done
echo "$edu" > "$dev/driver/unbind" 2>/dev/null
echo "1..$n"
