#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# migrate.sh [--seconds N] [SCENARIO...]: live migration of a guest behind
# the virtio-iommu, DMA checked across it. Scenarios (default: all four):
#
#   table    the viommu-pgt machine (virtio-iommu, edu, virtio-blk) on the
#            patched QEMU, the guest in table mode, migrated to a second
#            patched QEMU
#   compat   a classic-mode guest (virtio-blk only) migrated from Debian's
#            QEMU to the patched one and back: a guest that never attached
#            a table migrates between QEMUs with and without the extension
#            (edu stays out: Debian's edu has no migration state)
#   refused  a table-mode guest (virtio-blk only) sent to Debian's QEMU with
#            the return path: the destination refuses the load, the source
#            runs on and the guest's DMA finishes there
#   blocked  the patched QEMU with x-inject-delay-ms: the migrate command is
#            refused with the blocker's message (no guest needed)
#
# In table, compat and refused, guest_migrate_test runs edu round trips and disk
# reads for N seconds (default 10), every byte checked; one QEMU per hop
# waits with -incoming, and scripts/qmp-migrate.py moves the running VM on
# as soon as the previous hop printed DMA progress. Besides the guest's
# tests, two results per scenario: every migration completed, and DMA was
# checked on every hop (progress lines on each QEMU's console).
#
# Prints one line per test and "migrate: N passed, N failed, N skipped";
# exits non-zero on any failure. Environment: NO_BUILD=1 (make check built
# everything), KFLAVOUR (debug), QEMU_OVERRIDE (the patched QEMU),
# VM_TIMEOUT, TEST_TIMEOUT. Logs: results/migrate/SCENARIO/hopN.log (one
# per QEMU), console.log (all hops in order), migration.txt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/vmrun.sh"
. "$TOP/scripts/profiles.sh"

secs=10
if [ "${1:-}" = --seconds ]; then
	secs=${2:?--seconds needs a number}
	shift 2
fi
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(table compat refused blocked)

RUN_DIR=$RESULTS/migrate
mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR"/{counts,seconds}
flavour=${KFLAVOUR:-debug}
kdir=$(bash "$TOP/scripts/kernel.sh" "$flavour")
image=$kdir/arch/arm64/boot/Image
base=$(vm_base "$kdir" "$flavour")
cmdline=$(vm_cmdline "$flavour" "nest.timeout=${TEST_TIMEOUT:-600}")
FIRMWARE="" KERNEL_ARGS=""
profile_viommu_pgt
patched=$QEMU
stock=$patched
[[ " ${scenarios[*]} " == *" compat "* || " ${scenarios[*]} " == *" refused "* ]] &&
	stock=$(QEMU_OVERRIDE="" stock_qemu)
machine=("${QEMU_ARGS[@]}")
# glibc fills fresh allocations with this byte: a field the destination
# forgets to initialise after loading shows as garbage, not as a lucky zero.
export MALLOC_PERTURB_=165
# A guest stuck on lost DMA (a read in D state) cannot be killed from inside.
VM_TIMEOUT=${VM_TIMEOUT:-300}
viommu_machine --no-edu
no_edu=("${QEMU_ARGS[@]}")

p=0 f=0 s=0 pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# result OK TEXT: one result of this script.
result() {
	if (($1)); then
		echo "  pass  migrate: $2"
		p=$((p + 1))
	else
		echo "  FAIL  migrate: $2"
		f=$((f + 1))
	fi
}

# hop_boot DIR I QEMU ARGS...: start QEMU for hop I of the run in DIR in
# the background: hop 0 boots the guest, every later one waits for it
# (-incoming); each has a QMP socket to be migrated from.
hop_boot() {
	local dir=$1 i=$2
	QEMU=$3
	shift 3
	QEMU_ARGS=("$@" -qmp "unix:$dir/hop$i.qmp,server=on,wait=off")
	((i == 0)) || QEMU_ARGS+=(-incoming "unix:$dir/hop$i.sock")
	VM_BACKGROUND=1 vm_boot "$image" "$dir/initramfs.cpio" \
		"$dir/hop$i.log" "$cmdline"
	pids+=("$VM_PID")
}

# hops NAME TEST-ARGS MACHINE-ARGS -- QEMU...: boot the guest on the first
# QEMU, migrate it along the others, count the results.
hops() {
	local name=$1 targs=$2 dir=$RESULTS/migrate/$1 i n ok=1 seen=1 lines
	local -a args=() qemus
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	qemus=("$@")
	n=$#
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "guest_migrate_test --seconds $secs $targs" >"$dir/tests.list"
	vm_initrd "$base" "$dir/tests.list" "$dir/initramfs.cpio"
	for ((i = 0; i < n; i++)); do
		hop_boot "$dir" "$i" "${qemus[i]}" "${args[@]}"
	done
	: >"$dir/migration.txt"
	for ((i = 1; i < n; i++)); do
		python3 "$TOP/scripts/qmp-migrate.py" \
			--source "$dir/hop$((i - 1)).qmp" --uri "unix:$dir/hop$i.sock" \
			--wait-log "$dir/hop$((i - 1)).log" \
			--wait-for "$( ((i == 1)) && echo '# migrate: ready' || echo '# migrate: ')" \
			>>"$dir/migration.txt" 2>&1 || { ok=0; break; }
	done
	((ok)) || kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
	for ((i = 0; i < n; i++)); do cat "$dir/hop$i.log"; done >"$dir/console.log"
	vm_count "$dir/console.log" "migrate: $name" "$dir/tests.list"
	p=$((p + VM_PASSED)) f=$((f + VM_FAILED)) s=$((s + VM_SKIPPED))
	result "$ok" "$name: $(paste -sd';' "$dir/migration.txt" | sed 's/migration: //g; s/;/; /g')"
	# Live progress only: the dump after the test (### BEGIN ...) repeats
	# every earlier hop's lines on the last one.
	for ((i = 0; i < n; i++)); do
		lines=$(sed '/^### BEGIN /,$d' "$dir/hop$i.log" |
			grep -c '^# migrate: [0-9]* round trips' || true)
		((lines > 0)) || seen=0
	done
	result "$seen" "$name: DMA checked on each of the $n QEMUs"
}

# blocked: a migration blocker refuses the migrate command with its reason.
blocked() {
	local dir=$RESULTS/migrate/blocked ok
	rm -rf "$dir"
	mkdir -p "$dir"
	printf 'true\n' >"$dir/tests.list"
	vm_initrd "$base" "$dir/tests.list" "$dir/initramfs.cpio"
	hop_boot "$dir" 0 "$patched" "${machine[@]}" -S \
		-global virtio-iommu-device.x-inject-delay-ms=1
	python3 "$TOP/scripts/qmp-migrate.py" --source "$dir/hop0.qmp" \
		--uri "exec:cat >/dev/null" --expect-error "x-inject-delay-ms" \
		>"$dir/migration.txt" 2>&1 && ok=1 || ok=0
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
	result "$ok" "blocked: $(head -1 "$dir/migration.txt")"
}

# refused: a table-mode guest (virtio-blk only, so that the extension is
# the one thing the destination lacks) sent to Debian's QEMU with the return
# path: the destination fails the load and says so, the source resumes and
# the guest's DMA runs to its end there.
refused() {
	local dir=$RESULTS/migrate/refused ok why
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "guest_migrate_test --seconds $secs --no-edu" >"$dir/tests.list"
	vm_initrd "$base" "$dir/tests.list" "$dir/initramfs.cpio"
	hop_boot "$dir" 0 "$patched" "${no_edu[@]}"
	hop_boot "$dir" 1 "$stock" "${no_edu[@]}"
	python3 "$TOP/scripts/qmp-migrate.py" --source "$dir/hop0.qmp" \
		--uri "unix:$dir/hop1.sock" --wait-log "$dir/hop0.log" \
		--wait-for '# migrate: ready' --expect-failure \
		>"$dir/migration.txt" 2>&1 && ok=1 || ok=0
	((ok)) || kill "${pids[0]}" 2>/dev/null || true
	wait "${pids[0]}" 2>/dev/null || true
	kill "${pids[1]}" 2>/dev/null || true
	wait "${pids[1]}" 2>/dev/null || true
	pids=()
	vm_count "$dir/hop0.log" "migrate: refused" "$dir/tests.list"
	p=$((p + VM_PASSED)) f=$((f + VM_FAILED)) s=$((s + VM_SKIPPED))
	# Refused by the load itself (not a connection or a command line)
	why=$(grep -m1 'failed to load' "$dir/hop1.log") || { ok=0; why="no load error"; }
	result "$ok" "refused: $(head -1 "$dir/migration.txt"); destination: $why"
}

log "migrate: ${scenarios[*]}, $flavour kernel, $(basename "$patched") $("$patched" --version | head -1 | awk '{print $4}') and $("$stock" --version | head -1 | awk '{print $4}') (Debian), $secs s of DMA"
start=$SECONDS
for sc in "${scenarios[@]}"; do
	case $sc in
	table) hops table "" "${machine[@]}" -- "$patched" "$patched" ;;
	compat)
		hops compat "--classic --no-edu" "${no_edu[@]}" \
			-- "$stock" "$patched" "$stock" ;;
	blocked) blocked ;;
	refused) refused ;;
	*) die "unknown scenario '$sc' (table, compat, refused or blocked)" ;;
	esac
done
echo $((SECONDS - start)) >"$RUN_DIR/seconds"
echo "$p $f $s" >"$RUN_DIR/counts"
echo "migrate: $p passed, $f failed, $s skipped ($((SECONDS - start)) s; log $RUN_DIR)"
((f == 0))
