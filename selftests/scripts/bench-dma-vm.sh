#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-dma-vm.sh LABEL MODULE TYPE...: inside a test VM (make bench) or L2 of
# the nested chain (scripts/chain.sh --bench), load MODULE (the IOMMU driver
# under test; "-" for none, parameters after colons:
# virtio_iommu_pgt:force_classic=1), then for each iommu group TYPE (identity,
# DMA = strict, DMA-FQ = lazy) bind edu to the kernel's dma_map_benchmark
# driver and measure map/unmap latency, granule 1 and 16 pages, one thread,
# bench.seconds (kernel command line, default 4) each. Prints TAP and "bench: LABEL TYPE GRANULE MAP_US UNMAP_US REQ" lines,
# REQ being the guest module's virtio requests per 1000 map+unmap pairs
# (estimated from the run time; "-" for drivers without the statistics).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
label=$1 mod=$2
shift 2
secs=$(sed -n 's/.*bench.seconds=\([0-9]*\).*/\1/p' /proc/cmdline)
: "${secs:=4}"
n=0
echo "TAP version 13"
# shellcheck disable=SC2046
if [ "$mod" != - ]; then
	modprobe $(echo "$mod" | tr : " ") || { echo "not ok 1 $label: modprobe $mod"; exit 1; }
fi
edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device | head -1 | xargs dirname | xargs basename)
dev=/sys/bus/pci/devices/$edu
group=$(basename "$(readlink "$dev/iommu_group")")
echo "# edu $edu in iommu group $group, driver $mod, $secs s per point"

requests() {
	cat /sys/kernel/debug/virtio_iommu_pgt/*/stats 2>/dev/null |
		sed -n 's/^requests: //p' | head -1
}

echo dma_map_benchmark > "$dev/driver_override"
for type in "$@"; do
	[ -e "$dev/driver" ] && echo "$edu" > "$dev/driver/unbind"
	n=$((n + 1))
	if ! echo "$type" > /sys/kernel/iommu_groups/"$group"/type; then
		echo "not ok $n $label: set group type $type"
		continue
	fi
	echo "$edu" > /sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$dev/driver")" 2>/dev/null)
	if [ "$drv" != dma_map_benchmark ]; then
		echo "not ok $n $label $type: edu bound to dma_map_benchmark (got ${drv:-none})"
		continue
	fi
	echo "ok $n $label $type: edu bound to dma_map_benchmark"
	for g in 1 16; do
		n=$((n + 1))
		r0=$(requests)
		out=$(./dma_map_benchmark -t 1 -s "$secs" -g "$g" -x 28 -d 0 2>&1)
		r1=$(requests)
		map=$(echo "$out" | sed -n 's/^average map latency(us):\([0-9.]*\).*/\1/p')
		unmap=$(echo "$out" | sed -n 's/^average unmap latency(us):\([0-9.]*\).*/\1/p')
		if [ -n "$map" ] && [ -n "$unmap" ]; then
			req=-
			[ -n "$r0" ] && [ -n "$r1" ] && req=$(awk -v d=$((r1 - r0)) -v s="$secs" \
				-v m="$map" -v u="$unmap" 'BEGIN {
					p = s * 1e6 / (m + u); printf "%.0f", (p > 0 ? d * 1000 / p : 0) }')
			echo "bench: $label $type $g $map $unmap $req"
			echo "ok $n $label $type granule $g"
		else
			echo "$out" | sed 's/^/# /'
			echo "not ok $n $label $type granule $g"
		fi
	done
done
echo "$edu" > "$dev/driver/unbind" 2>/dev/null
echo "1..$n"
