#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# distro.sh [ABI...]: the distro kernel matrix (make check step "distro").
# For each of Debian's own arm64 kernels (default: the newest 6.1 of bookworm
# and 6.12 of bookworm-backports, and that 6.12's 16K-page flavour
# arm64-16k; DISTRO_KERNELS or ID arguments, e.g. "6.1.0-56 6.12.95+deb12
# 6.12.95+deb12-16k", override; an ID is an ABI, -16k for arm64-16k):
#   1. fetch linux-image/-headers/-kbuild with the private apt state and unpack
#      them under $CACHE/distro/ABI (scripts/distro/fetch.sh; never installed);
#   2. `dkms add/build/install` the project with its dkms.conf against the real
#      headers, cross-compiled with bookworm's gcc-12 (what Debian built them
#      with), into private dkms/source/install trees;
#   3. boot Debian's vmlinuz in the viommu test VM (stock QEMU, virtio-iommu,
#      edu, virtio-blk) with an initramfs of busybox, the kernel package's own
#      virtio modules, the dkms-installed modules and the selftests, and run
#      the guest selftests of selftests/run.list's viommu profile with the
#      same /init (scripts/vm-init.sh) and console parser as every test VM.
# Prints one line per kernel x module (built / loaded / tests) and a summary.
# Exits non-zero only on a regression: a build failure that is not a known gap
# (scripts/distro/known-gaps), a host module that dkms installs on a kernel
# without IOMMUFD, a guest module that does not load, or a failing test.
# Logs: results/distro/ID/. Environment: DISTRO_KERNELS, DISTRO_SRC (test
# another source tree, e.g. a compat fix in progress), DISTRO_PROFILES
# (default "viommu viommu-pgt"), DISTRO_RUNLIST, DISTRO_NO_16K=1 (leave the
# 16K-page kernels out: make check's core set), VM_TIMEOUT.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/vmrun.sh"
. "$TOP/scripts/profiles.sh"

t0=$SECONDS
SRC=${DISTRO_SRC:-$TOP}
OUT=$RESULTS/distro
mkdir -p "$OUT" "$CACHE/distro"
gaps=$TOP/scripts/distro/known-gaps
regressions=0 gapcount=0
: >"$OUT/matrix.txt"

row() {	# row KERNEL MODULE BUILT LOADED TESTS [NOTE]
	printf '  %-22s %-28s %-22s %-7s %s%s\n' "$1" "$2" "$3" "$4" "$5" "${6:+  ($6)}" |
		tee -a "$OUT/matrix.txt"
}

# known_gap ABI MODULE: prints the reason if scripts/distro/known-gaps lists
# the kernel series (a prefix of ABI, e.g. 6.12) and module.
known_gap() {
	[ -f "$gaps" ] || return 1
	awk -v abi="$1" -v mod="$2" '
		/^#/ || NF < 3 { next }
		$2 == mod && index(abi, $1 ".") == 1 { $1 = ""; $2 = ""; sub(/^ +/, ""); print; found = 1; exit }
		END { exit !found }' "$gaps"
}

# The default kernels: the newest 6.1 and 6.12 flavour-arm64 ABIs the private
# bookworm arm64 state lists (bookworm + security, bookworm-backports), and
# the arm64-16k flavour of the newest series that has one; re-resolved once
# a week, and whenever the cached list is missing.
resolve_kernels() {
	local list=$CACHE/distro/kernel-ids.list st=$CACHE/apt/bookworm-arm64
	if [ -s "$list" ] && [ -z "$(find "$list" -mtime +7)" ]; then
		cat "$list"
		return
	fi
	papt bookworm-arm64 update >/dev/null 2>&1 || log "distro: apt update failed, using the lists as they are"
	local series abi best ver bestver
	for series in 6.1 6.12; do
		best='' bestver=''
		while read -r ver abi; do
			if [ -z "$bestver" ] || dpkg --compare-versions "$ver" gt "$bestver"; then
				best=$abi bestver=$ver
			fi
		done < <(apt-cache -o Dir::Etc::SourceList="$st/sources.list" -o Dir::Etc::SourceParts=/dev/null \
				-o Dir::State::Lists="$st/lists" -o APT::Architecture=arm64 -o APT::Architectures=arm64 \
				show linux-headers-arm64 2>/dev/null |
			awk '/^Version:/ { v = $2 } /^Depends:/ { if (match($0, /linux-headers-[^ ,]*-arm64/)) {
				a = substr($0, RSTART + 14, RLENGTH - 20); print v, a } }' |
			awk -v s="$series" 'index($1, s ".") == 1')
		[ -n "$best" ] && echo "$best"
		[ -n "$best" ] && papt_cache bookworm-arm64 show "linux-image-$best-arm64-16k" >/dev/null 2>&1 &&
			echo "$best-16k"
	done >"$list.new"
	if [ -s "$list.new" ]; then
		mv "$list.new" "$list"
	else
		rm -f "$list.new"
	fi
	[ -s "$list" ] || die "no Debian arm64 kernels found (apt lists under $st)"
	cat "$list"
}

if (($#)); then
	kernels=("$@")
elif [ -n "${DISTRO_KERNELS:-}" ]; then
	read -ra kernels <<<"$DISTRO_KERNELS"
else
	mapfile -t kernels < <(resolve_kernels)
	# ABIs the archive has moved past (~400 MB each) go from the cache.
	for d in "$CACHE"/distro/*/.fetched; do
		[ -e "$d" ] || continue
		d=$(dirname "$d")
		[[ " ${kernels[*]} " == *" $(basename "$d") "* ]] || { log "distro: dropping old $(basename "$d") from the cache"; rm -rf "$d"; }
	done
	[ "${DISTRO_NO_16K:-0}" = 1 ] &&
		mapfile -t kernels < <(printf '%s\n' "${kernels[@]}" | grep -v -- '-16k$')
fi

# PROFILE -> its programs of selftests/run.list that are built (static arm64
# binaries, independent of the kernel they run on); profiles without
# programs are left out.
declare -A tests=()
profiles=()
for prof in ${DISTRO_PROFILES:-viommu viommu-pgt}; do
	mapfile -t programs < <(awk -v p="$prof" '$1 == p { $1 = ""; sub(/^ /, ""); print }' "${DISTRO_RUNLIST:-$TOP/selftests/run.list}")
	((${#programs[@]})) || continue
	if [ ! -x "$TOP/selftests/out/${programs[0]%% *}" ] && [ "${NO_BUILD:-0}" != 1 ]; then
		bash "$TOP/scripts/build.sh" "$(bash "$TOP/scripts/kernel.sh" debug)" >&2 || die "selftest build failed"
	fi
	list=''
	for p in "${programs[@]}"; do
		if [ -x "$TOP/selftests/out/${p%% *}" ]; then
			list+="$p"$'\n'
		else
			log "distro: $prof: ${p%% *} is in run.list but not built (selftests/out): not run here"
		fi
	done
	[ -n "$list" ] || continue
	tests[$prof]=$list
	profiles+=("$prof")
done
busybox_arm64 >/dev/null
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$SRC/dkms.conf")
export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-

# boot_profile PROFILE: boot Debian's kernel ($kver, $root) in the test VM
# PROFILE (scripts/profiles.sh) with the initramfs of $w and the PROFILE's
# programs, then distro_status; one matrix row.
boot_profile() {
	local prof=$1 fn=profile_${1//-/_} rd=$log_dir/$1 mod=virtio_iommu_pgt
	[ "$prof" = viommu ] || mod="virtio_iommu_pgt/$prof"
	mkdir -p "$rd"
	local extra=$rd/extra
	mkdir -p "$extra"
	printf '%s' "${tests[$prof]}" >"$extra/tests.list"
	echo distro_status >>"$extra/tests.list"
	vm_initrd "$w/initramfs.cpio" "$extra/tests.list" "$rd/initramfs.cpio"
	RUN_DIR=$rd FIRMWARE="" KERNEL_ARGS=""
	"$fn" || { row "$kver" "$mod" "built (dkms)" - "NO VM" "profile $prof unavailable"; regressions=$((regressions + 1)); return; }
	local vt=$SECONDS p f s
	vm_boot "$root/boot/vmlinuz-$kver" "$rd/initramfs.cpio" "$rd/console.log" \
		"$(vm_cmdline distro "nest.timeout=${TEST_TIMEOUT:-600}")" "${VM_TIMEOUT:-600}" || true
	local vsecs=$((SECONDS - vt))
	vm_count "$rd/console.log" "distro-$id-$prof" "$extra/tests.list" >"$rd/tests.txt"
	p=$VM_PASSED f=$VM_FAILED s=$VM_SKIPPED
	local loaded=no
	grep -q '^ok 1 virtio_iommu_pgt loaded' "$rd/console.log" && loaded=yes
	# Unsigned out-of-tree modules on a MODULE_SIG (not _FORCE) kernel: the
	# kernel says so once and taints (O, E); nothing worse is allowed.
	local taint tnum note
	taint=$(grep -oE '[a-z_0-9]+: (loading out-of-tree module taints kernel|module verification failed: signature and/or required key missing - tainting kernel)' \
		"$rd/console.log" | sed 's/ - tainting kernel//; s/ taints kernel//' | sort -u | paste -sd ';' -)
	tnum=$(sed -n 's/^# tainted \([0-9]*\).*/\1/p' "$rd/console.log" | head -1)
	local q=stock; case $QEMU in "$CACHE"/*) q=patched ;; esac
	note="Debian $dver, $q QEMU, VM $vsecs s"
	[ -n "$taint" ] && note="$note; taint ${tnum:-?}: $taint"
	if [ "$loaded" = yes ] && ((f == 0)); then
		row "$kver" "$mod" "built (dkms)" "$loaded" "$p passed, $s skipped" "$note"
	else
		row "$kver" "$mod" "built (dkms)" "$loaded" "$p passed, $f FAILED, $s skipped" "$note; log $rd/console.log"
		grep -E 'FAIL' "$rd/tests.txt" | head -n 20 | sed 's/^/    /'
		regressions=$((regressions + 1))
	fi
	rm -rf "$extra"
}

works=()
trap 'rm -rf "${works[@]}"' EXIT
echo "distro: ${#kernels[@]} Debian arm64 kernel(s): ${kernels[*]}; source $SRC"
row kernel module built loaded tests
for id in "${kernels[@]}"; do
	kt=$SECONDS
	abi=${id%-16k}
	kver=$abi-arm64
	[ "$id" = "$abi" ] || kver=$abi-arm64-16k
	log_dir=$OUT/$id
	rm -rf "$log_dir"
	mkdir -p "$log_dir"
	root=$(bash "$TOP/scripts/distro/fetch.sh" "$id" 2>"$log_dir/fetch.log") || {
		cat "$log_dir/fetch.log" >&2
		row "$kver" '*' "FETCH FAILED" - - "log $log_dir/fetch.log"
		regressions=$((regressions + 1))
		continue
	}
	hdr=$root/usr/src/linux-headers-$kver
	dver=$(cat "$CACHE/distro/$id/version")
	kcfg=$hdr/.config
	# the options dkms.conf and host/Kbuild require for vfio_nest
	missing=$(for o in IOMMUFD ARM_SMMU_V3_IOMMUFD VFIO_DEVICE_CDEV; do grep -qE "^CONFIG_$o=(y|m)$" "$kcfg" || echo -n "$o "; done)

	# 2. dkms, private trees (as scripts/dkms-test.sh); the build log is kept.
	# (one work dir per run: other work trees may run make check meanwhile)
	w=$(mktemp -d "$CACHE/distro/$id/work.XXXXXX")
	works+=("$w")
	mkdir -p "$w"/{src,dkms,root/lib/modules/"$kver"}
	rsync -a --exclude .git --exclude results --exclude selftests/out \
		--exclude '*.o' --exclude '*.ko' --exclude '*.mod*' --exclude '.*.cmd' \
		"$SRC/" "$w/src/iommu-nest-$ver/"
	opts=(-m iommu-nest -v "$ver" --sourcetree "$w/src" --dkmstree "$w/dkms")
	kopts=(-k "$kver" --kernelsourcedir "$hdr")
	dlog=$log_dir/dkms.log
	built=n
	if dkms add "${opts[@]}" >"$dlog" 2>&1 && dkms build "${opts[@]}" "${kopts[@]}" >>"$dlog" 2>&1; then
		built=y
		dkms install "${opts[@]}" "${kopts[@]}" --installtree "$w/root/lib/modules" --no-depmod \
			>>"$dlog" 2>&1 || built=install-failed
	fi
	cp "$w"/dkms/iommu-nest/"$ver"/build/make.log "$log_dir/make.log" 2>/dev/null
	cp "$w"/dkms/iommu-nest/"$ver"/"$kver"/*/log/make.log "$log_dir/make.log" 2>/dev/null
	guest_ko=$(find "$w/root" -name 'virtio_iommu_pgt.ko*' | head -1)
	host_ko=$(find "$w/root" -name 'vfio_nest.ko*' | head -1)

	# Host module: only where the kernel has arm-smmu-v3 nesting.
	if [ -n "$missing" ]; then
		if [ -n "$host_ko" ]; then
			row "$kver" vfio_nest "INSTALLED (wrong)" - - "kernel lacks ${missing% }: dkms.conf must skip it"
			regressions=$((regressions + 1))
		elif grep -q ' HOST=n modules' "$dlog"; then
			row "$kver" vfio_nest "skipped by dkms.conf" - - "kernel lacks ${missing% }"
		else
			row "$kver" vfio_nest "not built" - - "kernel lacks ${missing% }"
		fi
	elif [ -n "$host_ko" ]; then
		row "$kver" vfio_nest built "not booted" - "needs an SMMUv3 VM: see the 7.x profiles"
	else
		row "$kver" vfio_nest FAILED - - "log $log_dir/make.log"
		regressions=$((regressions + 1))
	fi

	if [ "$built" = install-failed ]; then
		row "$kver" virtio_iommu_pgt "INSTALL FAILED" - - "dkms install; log $dlog"
		regressions=$((regressions + 1))
		continue
	fi
	if [ -n "$guest_ko" ] && ! dkms status "${opts[@]}" "${kopts[@]}" 2>/dev/null | grep -q installed; then
		row "$kver" virtio_iommu_pgt "NOT INSTALLED" - - "dkms status does not say installed; log $dlog"
		regressions=$((regressions + 1))
		continue
	fi
	if [ -z "$guest_ko" ]; then
		errs=$(grep -E 'error:' "$log_dir/make.log" 2>/dev/null | sed "s|$w/dkms/iommu-nest/$ver/build/||" | sort -u)
		if reason=$(known_gap "$abi" virtio_iommu_pgt); then
			row "$kver" virtio_iommu_pgt "GAP: does not build" - - "known gap: $reason"
			gapcount=$((gapcount + 1))
		else
			row "$kver" virtio_iommu_pgt "BUILD FAILED" - - "log $log_dir/make.log"
			regressions=$((regressions + 1))
		fi
		[ -n "$errs" ] && echo "$errs" | head -n 20 | sed 's/^/      /'
		log "distro: $kver done in $((SECONDS - kt)) s"
		continue
	fi
	known_gap "$abi" virtio_iommu_pgt >/dev/null &&
		log "distro: note: scripts/distro/known-gaps lists $abi virtio_iommu_pgt, but it builds now: drop the entry"

	# Test-only edu_dma kmod (not in dkms), built against the same headers.
	if [ -n "$(ls "$SRC"/selftests/kmod/*.c 2>/dev/null)" ]; then
		rm -rf "$w/kmod" && cp -r "$SRC/selftests/kmod" "$w/kmod"
		make -C "$hdr" M="$w/kmod" modules >"$log_dir/kmod.log" 2>&1 &&
			make -s -C "$hdr" M="$w/kmod" INSTALL_MOD_PATH="$w/root" INSTALL_MOD_DIR=extra DEPMOD=true \
				modules_install >>"$log_dir/kmod.log" 2>&1 ||
			log "distro: edu_dma did not build for $kver (log $log_dir/kmod.log)"
	fi

	# 3. initramfs: busybox, /init, the kernel package's virtio modules (and
	# what they and ours depend on), the dkms-installed modules, selftests.
	stage=$w/stage
	vm_stage_base "$stage"
	kmods=$stage/lib/modules/$kver
	mkdir -p "$kmods"
	cp "$root/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$kmods/" 2>/dev/null
	cp -r "$w/root/lib/modules/$kver/." "$kmods/"
	# Debian's modules the VM needs (virtio_pci is a module in 6.1), the in-tree
	# virtio_iommu (the modprobe.d file must keep it off the device), and the
	# dependencies of ours.
	want=(virtio_pci virtio_blk virtio_iommu)
	for ko in $(find "$kmods" -name '*.ko*'); do
		for d in $(modinfo -F depends "$ko" | tr ',' ' '); do want+=("$d"); done
	done
	preload=()
	for m in "${want[@]}"; do
		deps=$(modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null) || continue
		echo "$deps" | awk '$1 == "insmod" { print $2 }' | while read -r f; do
			rel=${f#"$root"/lib/modules/"$kver"/}
			mkdir -p "$kmods/$(dirname "$rel")"
			cp "$f" "$kmods/$rel"
		done
		echo "$deps" | grep -q '^insmod' && [ "$m" != virtio_iommu ] && preload+=("$m")
	done
	find "$kmods" -name '*.ko.xz' -exec xz -d {} +
	find "$kmods" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	depmod -b "$stage" "$kver"
	cp "$SRC"/guest/modprobe.d/*.conf "$stage/etc/modprobe.d/" 2>/dev/null
	cp "$TOP"/selftests/out/* "$stage/selftests/"
	# The kernel package's modules the built-in ones would be on our test
	# kernel: load them before the tests (vm-init.sh runs /preinit.sh).
	{
		echo '#!/bin/sh'
		echo "# distro.sh: Debian $kver needs these as modules"
		for m in "${preload[@]}"; do echo "modprobe $m"; done
	} >"$stage/preinit.sh"
	chmod +x "$stage/preinit.sh"
	# The last program: did ours load, and what did the kernel think of it.
	cat >"$stage/selftests/distro_status" <<-'EOF'
	#!/bin/sh
	echo "TAP version 13"
	echo "1..2"
	if [ -d /sys/module/virtio_iommu_pgt ]; then echo "ok 1 virtio_iommu_pgt loaded"; else echo "not ok 1 virtio_iommu_pgt loaded"; fi
	if [ ! -d /sys/module/virtio_iommu ]; then echo "ok 2 in-tree virtio_iommu not loaded"; else echo "not ok 2 in-tree virtio_iommu not loaded"; fi
	echo "# tainted $(cat /proc/sys/kernel/tainted)"
	EOF
	chmod +x "$stage/selftests/distro_status"
	vm_pack "$stage" "$w/initramfs.cpio"
	for prof in "${profiles[@]}"; do
		boot_profile "$prof"
	done

	# 4. Secure Boot hosts: dkms signs what it builds with its MOK when it
	# finds the kernel's sign-file (Debian: linux-kbuild). A second build in
	# its own dkms tree, with a private key pair standing in for
	# /var/lib/dkms/mok.{key,pub}; the VM above loads the unsigned build.
	mok=$CACHE/distro/mok
	mkdir -p "$mok" "$w/signed"
	sf=$(ls "$root"/usr/lib/linux-kbuild-*/scripts/sign-file | head -1)
	sopts=(-m iommu-nest -v "$ver" --sourcetree "$w/src" --dkmstree "$w/signed")
	if sign_file=$sf mok_signing_key=$mok/mok.key mok_certificate=$mok/mok.pub \
		dkms add "${sopts[@]}" >"$log_dir/dkms-signed.log" 2>&1 &&
		sign_file=$sf mok_signing_key=$mok/mok.key mok_certificate=$mok/mok.pub \
		dkms build "${sopts[@]}" "${kopts[@]}" >>"$log_dir/dkms-signed.log" 2>&1 &&
		sko=$(find "$w/signed" -path '*/module/virtio_iommu_pgt.ko*' | head -1) && [ -n "$sko" ] &&
		signer=$(modinfo -F signer "$sko") && [ -n "$signer" ]; then
		row "$kver" virtio_iommu_pgt "signed by dkms (MOK)" - - \
			"signer \"$signer\", $(modinfo -F sig_hashalgo "$sko"); enrol mok.pub with mokutil for Secure Boot"
	else
		row "$kver" virtio_iommu_pgt "SIGNING FAILED" - - "log $log_dir/dkms-signed.log"
		regressions=$((regressions + 1))
	fi
	rm -rf "$stage"
	log "distro: $kver done in $((SECONDS - kt)) s"
done

# The host recipe on 7.x: Debian's config + scripts/distro/host.config.
if r=$(bash "$TOP/scripts/distro/host-recipe.sh" 2>"$OUT/recipe.log"); then
	row "$(kernel_src_version) rebuilt (recipe)" vfio_nest "config proven" - - "$r"
else
	row "$(kernel_src_version) rebuilt (recipe)" vfio_nest "RECIPE FAILED" - - "log $OUT/recipe.log"
	tail -n 5 "$OUT/recipe.log"
	regressions=$((regressions + 1))
fi

echo "distro: ${#kernels[@]} kernel(s), $regressions regression(s), $gapcount known gap(s) (scripts/distro/known-gaps); $((SECONDS - t0)) s; details in $OUT"
((regressions == 0))
