#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chain/bench.sh: DMA map/unmap cost in L2 of the nested chain, for the
# assigned edu (vfio-pci + iommufd in L1, virtio-iommu in L2): one L1 boot,
# one L2 boot per scripts/chain/bench-*.list run (`chain.sh --bench`), base
# (non-debug) kernel, dma_map_benchmark 1 thread. Prints the table and writes
# results/bench-chain-dma-map.txt. Measures; never asserts on timing.
# Environment: BENCH_SECONDS (per point, default 4; L2 reads bench.seconds).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=$RESULTS/chain-bench
mkdir -p "$out"
tree=$(RESULTS=$out bench_tree)
rc=0
KFLAVOUR=base RESULTS=$out bash "$tree/scripts/chain.sh" --bench >"$out/run.log" 2>&1 || rc=$?
grep '^\[..:..:..\] chain:' "$out/run.log" >&2 || true
# The "bench:" lines of L1's dumped sections (each L2 run once).
sed -n '/^### BEGIN chain_l1_l2_/,/^### END/p' "$out/chain/console.log" | tr -d '\r' |
	grep '^bench: ' >"$out/bench.raw" || true
kind=$(grep -o 'L2 \(kvm\|tcg\): [0-9.]* s' "$out/chain/console.log" | head -1 | awk '{print $2}' | tr -d :)
python3 - "$out/bench.raw" "${kind:-?}" <<'PY' | tee "$RESULTS/bench-chain-dma-map.txt"
import sys
rows = {}
for ln in open(sys.argv[1]):
    f = ln.split()
    _, label, typ, g, m, u = f[:6]
    rows[(label, typ, int(g))] = (float(m), float(u), f[6] if len(f) > 6 else "-")
name = {"identity": "identity", "DMA": "strict", "DMA-FQ": "lazy"}
order = ["classic", "in-tree", "table"]
print(f"DMA map/unmap latency in L2, µs (nested chain: L2 under {sys.argv[2]} in L1 "
      "under TCG; edu assigned through vfio-pci + iommufd; dma_map_benchmark, 1 thread, "
      "base kernel)")
print(f"{'path':<26}{'mode':<9}{'gran':>5}{'map':>10}{'unmap':>10}{'sum':>10}{'x in-tree':>10}{'req/1k':>8}")
def key(kv):
    (label, typ, g) = kv[0]
    return (g, ["identity", "DMA", "DMA-FQ"].index(typ) if typ in name else 9,
            order.index(label) if label in order else 9)
for (label, typ, g), (m, u, req) in sorted(rows.items(), key=key):
    ref = rows.get(("in-tree", typ, g))
    ratio = f"{(m + u) / (ref[0] + ref[1]):.2f}" if ref and typ != "identity" else "-"
    path = "dma-direct (bypass)" if typ == "identity" else \
        {"in-tree": "in-tree virtio_iommu", "classic": "virtio_iommu_pgt classic",
         "table": "virtio_iommu_pgt table"}.get(label, label)
    print(f"{path:<26}{name.get(typ, typ):<9}{g:>5}{m:>10.1f}{u:>10.1f}{m + u:>10.1f}{ratio:>10}{req:>8}")
print("req/1k: the guest module's virtio requests per 1000 map+unmap pairs (estimated"
      " from the run time; - for the in-tree driver)")
if not rows:
    print("(no results: see " + sys.argv[1].rsplit("/", 1)[0] + "/chain/console.log)")
PY
exit $rc
