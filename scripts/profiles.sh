# SPDX-License-Identifier: GPL-2.0
# Test VM profiles (sourced by vm.sh). profile_NAME sets:
#   QEMU      the qemu-system-aarch64 binary (stock Debian or the patched build)
#   QEMU_ARGS machine and device arguments (kernel, initrd, console added by vm.sh)
#   MEM       guest memory
# Every profile is TCG on -cpu max; device order is fixed so PCI addresses are
# stable, but tests find devices by vendor/device ID, never by address.

# QEMU_OVERRIDE (vm.sh --qemu) replaces either binary, and nothing is built.
stock_qemu() {
	[ -z "${QEMU_OVERRIDE:-}" ] || { echo "$QEMU_OVERRIDE"; return; }
	command -v qemu-system-aarch64 || die "stock qemu-system-aarch64 missing: run scripts/deps.sh"
}
patched_qemu() {
	[ -z "${QEMU_OVERRIDE:-}" ] || { echo "$QEMU_OVERRIDE"; return; }
	[ -x "$TOP/vmm/qemu/build.sh" ] || [ -f "$TOP/vmm/qemu/build.sh" ] ||
		die "vmm/qemu/build.sh missing: the patched QEMU is needed for this profile"
	bash "$TOP/vmm/qemu/build.sh" | tail -1
}

# A virtio-blk disk with a known pattern, for DMA data checks behind the IOMMU.
test_disk() {
	local img=$RUN_DIR/disk.img
	mkdir -p "$RUN_DIR"
	[ -e "$img" ] || python3 -c "
import sys
blk = bytes((i * 7 + 3) & 0xff for i in range(4096))
with open(sys.argv[1], 'wb') as f:
    for n in range(4096):
        f.write(n.to_bytes(4, 'little') + blk[4:])
" "$img"
	echo "$img"
}

# The machines; the profiles pair them with a QEMU binary.
smmuv3_machine() {
	MEM=1G SMP=2
	QEMU_ARGS=(-M virt,iommu=smmuv3,gic-version=3 -device edu)
}

# virtio-blk with iommu_platform: without VIRTIO_F_ACCESS_PLATFORM its DMA
# would bypass the IOMMU under test. viommu_machine --no-edu: the same
# without edu (a QEMU whose edu has no migration state, scripts/migrate.sh).
viommu_machine() {
	MEM=1G SMP=2
	QEMU_ARGS=(-M virt,gic-version=3 -device virtio-iommu-pci)
	[ "${1:-}" = --no-edu ] || QEMU_ARGS+=(-device edu)
	QEMU_ARGS+=(-drive if=none,format=raw,file="$(test_disk)",id=disk0
		    -device virtio-blk-pci,drive=disk0,iommu_platform=on,disable-legacy=on)
}

profile_smmuv3() { QEMU=$(stock_qemu); smmuv3_machine; }
profile_smmuv3_nest() { QEMU=$(patched_qemu); smmuv3_machine; }
# The host module's functional suites and fuzzers under KASAN, lockdep,
# kmemleak and fault injection (the kasan kernel flavour); benchmarks stay
# on smmuv3-nest.
profile_smmuv3_nest_kasan() { profile_smmuv3_nest; }
# The host path on a 64K-page host kernel (debug64k): the VM's stage 2
# has a 64K granule under the guest's 4K/16K/64K stage-1 tables.
profile_smmuv3_nest_64k() { profile_smmuv3_nest; }
# ... and on a 16K-page host kernel (debug16k): a 16K-granule stage 2.
profile_smmuv3_nest_16k() { profile_smmuv3_nest; }

# profile_flavour PROFILE: the test kernel flavour (scripts/kernel.sh) the
# profile boots: "kasan" for *-kasan profiles, "debug16k" and "debug64k"
# for *-16k and *-64k ones, "debug" for the others.
profile_flavour() {
	case $1 in
	*-kasan) echo kasan ;;
	*-16k) echo debug16k ;;
	*-64k) echo debug64k ;;
	*) echo debug ;;
	esac
}
# one_cpu: one vCPU for a profile whose point is a device or firmware
# variant; the profiles that test concurrency (the main viommu, viommu-pgt
# and smmuv3 ones, removal, a stalled device) keep two. Two lanes of 2-vCPU
# VMs on 2 cores wait on each other's preempted vCPUs: a pair of
# one-vCPU VMs finished in 47 s where the same pair with two took 56 s.
one_cpu() { SMP=1; }
profile_viommu() { QEMU=$(stock_qemu); viommu_machine; }
profile_viommu_pgt() { QEMU=$(patched_qemu); viommu_machine; }
# pgt_granules MASK: viommu-pgt on one vCPU with a device that offers only
# the page-table granules in MASK (patch 0002's pgtable-granules).
pgt_granules() {
	profile_viommu_pgt
	QEMU_ARGS+=(-global virtio-iommu-device.pgtable-granules="$1")
	one_cpu
}
# The guest suites with 64K pages (kernel flavour debug64k): table mode on
# a device offering every granule (64K tables), classic mode on stock QEMU,
# and a device offering 4K only: io-pgtable builds 4K tables under 64K
# pages, so that is table mode too, not a fallback.
profile_viommu_pgt_64k() { profile_viommu_pgt; }
profile_viommu_64k() { profile_viommu; }
profile_viommu_pgt_4konly_64k() { pgt_granules 0x1000; }
# The same three with 16K pages (debug16k), and the fallback for a 16K
# guest: a device offering 64K only, the one granule above its PAGE_SIZE.
profile_viommu_pgt_16k() { profile_viommu_pgt; }
profile_viommu_16k() { profile_viommu; }
profile_viommu_pgt_4konly_16k() { pgt_granules 0x1000; }
profile_viommu_pgt_nogran_16k() { pgt_granules 0x10000; }
# viommu-pgt with a device offering only granules above the guest's 4K
# PAGE_SIZE (16K|64K: a host SMMU without GRAN4K): the driver negotiates the
# page-table extension and has to fall back to MAP/UNMAP domains.
profile_viommu_pgt_nogran() { pgt_granules 0x14000; }

# viommu-pgt with a device that does not offer VIRTIO_IOMMU_F_BYPASS_CONFIG
# (patch 0002's bypass-config=off): identity domains are identity-mapped
# classic domains built from MAP requests instead of the device's bypass.
profile_viommu_nobypass() {
	QEMU=$(patched_qemu)
	viommu_machine
	QEMU_ARGS+=(-global virtio-iommu-device.bypass-config=off)
	one_cpu
}

# The viommu machine booted through UEFI (edk2, Debian's QEMU_EFI.fd, fetched
# by deps.sh): edk2 loads -kernel/-initrd/-append over fw_cfg and hands the
# kernel QEMU's ACPI tables and no DT, so endpoints behind virtio-iommu-pci
# are found through the VIOT table. acpi=force: ACPI even if a DT came along
# (firmware_test acpi checks what the VM got).
uefi_acpi() {
	FIRMWARE=$(efi_firmware)
	KERNEL_ARGS=acpi=force
	one_cpu
}
profile_viommu_acpi() { QEMU=$(stock_qemu); viommu_machine; uefi_acpi; }
profile_viommu_pgt_acpi() { QEMU=$(patched_qemu); viommu_machine; uefi_acpi; }

# The nested chain's "host machine" L1 (scripts/chain.sh): SMMUv3 with nesting,
# EL2 so that L1 runs KVM, edu to assign to L2. The patched QEMU (IDR3.FWB,
# needed by arm-smmu-v3 for iommufd vIOMMUs) when it builds and runs, else
# stock; CHAIN_QEMU=stock|patched|/path/to/qemu-system-aarch64 forces one.
# chain.sh adds the inner QEMU, the L2 kernel and initramfs to the initramfs;
# `vm.sh nest-l1 PROGRAM` boots L1 alone.
profile_nest_l1() {
	local q=""
	MEM=3G SMP=2
	QEMU_ARGS=(-M virt,iommu=smmuv3,virtualization=on,gic-version=3 -device edu)
	if [ -x "${CHAIN_QEMU:-}" ]; then
		q=$CHAIN_QEMU
	elif [ "${CHAIN_QEMU:-auto}" != stock ]; then
		q=$(patched_qemu 2>/dev/null) || q=""
		if [ -z "$q" ] || ! "$q" -device help 2>/dev/null | grep -q '"edu"'; then
			[ "${CHAIN_QEMU:-auto}" = patched ] && die "patched QEMU missing or broken"
			log "nest-l1: patched QEMU unavailable, using the stock one"
			q=""
		fi
	fi
	QEMU=${q:-$(stock_qemu)}
}

# viommu-pgt with a device whose PGTF offers a 46-bit output size, which
# TCR.IPS cannot express: the driver rounds it down to 44 bits and keeps
# table mode (guest_table_test checks the domains are tables).
profile_viommu_pgt_oas46() {
	QEMU=$(patched_qemu)
	viommu_machine
	QEMU_ARGS+=(-global virtio-iommu-device.pgtable-oas=46
		   -global virtio-iommu-device.x-pgtable-oas-any=on)
	one_cpu
}

# The IOMMU's transport removed while a domain lives (guest_remove_test):
# a VM of its own, it ends without its IOMMU. Table and classic mode.
profile_viommu_pgt_remove() { profile_viommu_pgt; }
profile_viommu_remove() { profile_viommu; }

# The patched virtio-iommu's test-only fault injection (x-inject-*): added
# only when this QEMU has it, and then said on the kernel command line
# (nest.inject=1), so that without it the tests skip at once instead of QEMU
# refusing to start. After 200 INVALIDATE
# requests (boot needs fewer), the device never completes one
# (viommu-pgt-drop) or answers DEVERR without doing it (viommu-pgt-invalerr):
# guest_stall_test's device variants.
inject_args() {
	if ! "$QEMU" -device virtio-iommu-device,help 2>/dev/null | grep -q x-inject-type; then
		log "$QEMU has no x-inject-* properties: the injection tests will skip"
		return 0
	fi
	local a
	for a; do QEMU_ARGS+=(-global "virtio-iommu-device.$a"); done
	KERNEL_ARGS="${KERNEL_ARGS:+$KERNEL_ARGS }nest.inject=1"
}
profile_viommu_pgt_drop() {
	profile_viommu_pgt
	inject_args x-inject-type=7 x-inject-after=200 x-inject-drop=on
}
profile_viommu_pgt_invalerr() {
	profile_viommu_pgt
	inject_args x-inject-type=7 x-inject-after=200 x-inject-status=3
}

# viommu whose request virtqueue the test breaks under an ATTACH
# (guest_stall_test -v queue, break_queue knob): a VM of its own.
profile_viommu_queue() { profile_viommu; }
# A slow device: every INVALIDATE completed 100 ms late, well within the
# driver's request_timeout_ms (1000): nothing breaks (guest_table_test).
profile_viommu_pgt_slow() {
	profile_viommu_pgt
	inject_args x-inject-type=7 x-inject-delay-ms=100
	one_cpu
}
