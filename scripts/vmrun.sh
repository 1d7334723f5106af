# SPDX-License-Identifier: GPL-2.0
# The one VM runner every harness script boots its test VMs with (sourced
# after lib.sh): the initramfs with its test list, the QEMU command line, and
# the result count read from the console.
#
# A profile (scripts/profiles.sh) sets QEMU, QEMU_ARGS, MEM, SMP (vCPUs)
# and optionally FIRMWARE (a UEFI image: -bios, which loads
# -kernel/-initrd/-append over fw_cfg) and KERNEL_ARGS (added to the kernel
# command line).

# vm_base KDIR FLAVOUR: print the base initramfs of the kernel flavour
# (results/initramfs-FLAVOUR.cpio): the project's modules and selftests
# built against KDIR and packed, now, unless NO_BUILD=1 and it exists
# (make check builds and packs every flavour before the lanes). Modules are
# built in the tree, so each flavour's archive is packed right after its
# build.
vm_base() {
	local kd=$1 base=$RESULTS/initramfs-$2.cpio
	if [ "${NO_BUILD:-0}" != 1 ] || [ ! -e "$base" ]; then
		bash "$TOP/scripts/build.sh" "$kd" >&2
		bash "$TOP/scripts/initramfs.sh" "$kd" "$base" >&2
	fi
	echo "$base"
}

# vm_initrd BASE LIST OUT: BASE (initramfs.sh's archive) followed by a second
# archive that holds LIST as /tests.list (the kernel unpacks both in order).
vm_initrd() {
	local base=$1 list=$2 out=$3 d
	d=$(mktemp -d)
	cp "$list" "$d/tests.list"
	(cd "$d" && echo tests.list | cpio -o -H newc --quiet) >"$d/tests.cpio"
	cat "$base" "$d/tests.cpio" >"$out"
	rm -rf "$d"
}

# vm_cmdline FLAVOUR [ARGS...]: the kernel command line of a test VM.
# slub_debug only on the debug kernels: on the base (benchmark) kernel it
# would add red-zone and poison checks to every allocation of the measured
# paths. deferred_probe_timeout: allnoconfig leaves it 0, so devices behind a
# modular IOMMU would stop waiting for it before /init can modprobe it.
vm_cmdline() {
	local flavour=$1 slub=; shift
	case $flavour in debug*|kasan) slub=" slub_debug=FZP" ;; esac
	echo "console=ttyAMA0 panic=-1 oops=panic$slub deferred_probe_timeout=30${*:+ $*}${KERNEL_ARGS:+ $KERNEL_ARGS}"
}

# edu_delay_settable: the profile has an edu and its QEMU has edu's
# dma-delay-ms (the patched build, patch 0014). edu waits 100 ms of virtual
# time before each transfer, which made the DMA suites wait more than they
# ran; vm_boot sets EDU_DMA_DELAY_MS (default 1: a transfer still completes
# asynchronously). A stock QEMU keeps its 100 ms.
edu_delay_settable() {
	local a has=0
	for a in "${QEMU_ARGS[@]}"; do
		[[ $a == edu || $a == edu,* ]] && has=1
	done
	((has)) || return 1
	# One probe per QEMU binary and shell
	if [ "${EDU_DELAY_QEMU:-}" != "$QEMU" ]; then
		EDU_DELAY_QEMU=$QEMU EDU_DELAY_OK=0
		"$QEMU" -device edu,help 2>/dev/null | grep -q 'dma-delay-ms=' &&
			EDU_DELAY_OK=1
	fi
	((EDU_DELAY_OK))
}

# vm_boot IMAGE INITRD LOG CMDLINE [TIMEOUT]: boot the profile's machine
# (TCG, -cpu max, SMP vCPUs, default 2) with IMAGE and INITRD, console to LOG; killed
# after TIMEOUT s (VM_TIMEOUT, default 1500). Returns QEMU's status (137:
# killed). Runs in the background when VM_BACKGROUND=1 (pid in VM_PID).
vm_boot() {
	local image=$1 initrd=$2 logf=$3 cmdline=$4 to=${5:-${VM_TIMEOUT:-1500}}
	local edu=()
	edu_delay_settable && edu=(-global "edu.dma-delay-ms=${EDU_DMA_DELAY_MS:-1}")
	local cmd=(timeout -s KILL "$to" "$QEMU" -nographic -no-reboot -nic none
		   -cpu max -smp "${SMP:-2}" -m "$MEM" "${QEMU_ARGS[@]}" "${edu[@]}"
		   ${FIRMWARE:+-bios "$FIRMWARE"}
		   -kernel "$image" -initrd "$initrd" -append "$cmdline")
	if [ "${VM_BACKGROUND:-0}" = 1 ]; then
		"${cmd[@]}" </dev/null >"$logf" 2>&1 &
		VM_PID=$!
		return 0
	fi
	"${cmd[@]}" </dev/null >"$logf" 2>&1
}

# vm_count LOG NAME LIST: print one line per test of the console LOG (of
# the run NAME, programs LIST) and set VM_PASSED, VM_FAILED, VM_SKIPPED.
vm_count() {
	local out
	out=$(python3 "$TOP/scripts/parse-console.py" "$1" "$2" "$3")
	echo "$out" | grep -v '^counts '
	read -r _ VM_PASSED VM_FAILED VM_SKIPPED <<<"$(echo "$out" | tail -1)"
}

# vm_stage_base STAGE: the skeleton of a test initramfs in the directory
# STAGE: busybox and its applet links (scripts/busybox-applets), the kernel's
# /sbin/modprobe for module autoloading, and /init (scripts/vm-init.sh).
vm_stage_base() {
	local stage=$1 a
	mkdir -p "$stage"/{bin,sbin,etc/modprobe.d,proc,sys,dev,tmp,run,mnt,root,selftests,usr/bin,usr/sbin}
	cp "$(busybox_arm64)" "$stage/bin/busybox"
	for a in $(grep -v '^#' "$TOP/scripts/busybox-applets"); do
		ln -sf /bin/busybox "$stage/bin/$a"
	done
	ln -sf /bin/busybox "$stage/sbin/modprobe"
	cp "$TOP/scripts/vm-init.sh" "$stage/init"
	chmod +x "$stage/init"
}

# vm_pack STAGE OUT: the directory STAGE as a newc cpio archive OUT.
vm_pack() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc --quiet) >"$2"
}
