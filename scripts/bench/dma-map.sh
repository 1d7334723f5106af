#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dma-map.sh: DMA map/unmap cost through each IOMMU path, measured by the
# kernel's dma_map_benchmark (tools/dma) on edu, one thread, base (non-debug)
# kernel, TCG: dma-direct (identity domain), native arm-smmu-v3, the in-tree
# virtio_iommu, virtio_iommu_pgt classic and (patched QEMU) table mode; strict
# (DMA) and lazy (DMA-FQ); granule 1 and 16 pages. Prints µs and ratios to
# native arm-smmu-v3.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

export KFLAVOUR=base
runs=(
	"smmuv3 native - identity DMA DMA-FQ"
	"viommu in-tree virtio_iommu DMA DMA-FQ"
	"viommu classic virtio_iommu_pgt DMA DMA-FQ"
)
if [ -f "$TOP/vmm/qemu/build.sh" ]; then
	runs+=("viommu-pgt table virtio_iommu_pgt DMA DMA-FQ")
fi
all=$RESULTS/bench-dma-map.raw
: >"$all"
tree=$(bench_tree)
build=0
for r in "${runs[@]}"; do
	read -r profile label args <<<"$r"
	NO_BUILD=$build RESULTS=$RESULTS/bench bash "$tree/scripts/vm.sh" "$profile" \
		"bench-dma-vm.sh $label $args" >"$RESULTS/bench-$label.log" 2>&1 ||
		log "bench: $label: some runs failed (see $RESULTS/bench/$profile/console.log)"
	build=1
	sed -n '/^### BEGIN bench-dma-vm.sh/,/^### END/p' "$RESULTS/bench/$profile/console.log" |
		tr -d '\r' | grep '^bench: ' >>"$all" || true
done

python3 - "$all" <<'PY'
import sys
rows = {}
for ln in open(sys.argv[1]):
    _, label, typ, g, m, u = ln.split()[:6]
    rows[(label, typ, int(g))] = (float(m), float(u))
name = {"identity": "identity", "DMA": "strict", "DMA-FQ": "lazy"}
print("DMA map/unmap latency, µs (dma_map_benchmark, 1 thread, edu, TCG, base kernel)")
print(f"{'path':<22}{'mode':<9}{'gran':>5}{'map':>9}{'unmap':>9}{'sum':>9}{'x native':>10}")
for (label, typ, g), (m, u) in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][1], ["native", "in-tree", "classic", "table"].index(kv[0][0]) if kv[0][0] in ["native", "in-tree", "classic", "table"] else 9)):
    ref = rows.get(("native", typ, g))
    ratio = f"{(m + u) / sum(ref):.2f}" if ref and typ != "identity" else "-"
    path = "dma-direct" if typ == "identity" else label
    print(f"{path:<22}{name.get(typ, typ):<9}{g:>5}{m:>9.1f}{u:>9.1f}{m + u:>9.1f}{ratio:>10}")
PY
