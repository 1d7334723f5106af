# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the harness scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOMMU_NEST_CACHE:-/var/cache/iommu-nest}
RESULTS=${RESULTS:-$TOP/results}
# LINUX_SOURCE pins a linux-source package (e.g. linux-source-7.2); unset,
# deps.sh takes the newest linux-source-7.x that sid offers.
LINUX_SOURCE=${LINUX_SOURCE:-}
export CACHE RESULTS LINUX_SOURCE

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt_system APT-GET-ARGS...: apt-get on the system state, quiet. On a fresh
# machine another apt (apt-daily, unattended-upgrades) may hold a lock for
# minutes: wait for it, 10 minutes in all, instead of failing.
# DPkg::Lock::Timeout covers dpkg's lock; bookworm's apt does not apply it to
# the lists lock of "update", hence the retry (LC_ALL=C: the message matched).
apt_system() {
	local end=$((SECONDS + 600)) said=0 err
	while :; do
		err=$(LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get \
			-o DPkg::Lock::Timeout=$((end - SECONDS)) "$@" 2>&1 >/dev/null) &&
			return 0
		if ! grep -q 'Could not get lock' <<<"$err" || ((SECONDS + 5 >= end)); then
			break
		fi
		((said++)) || log "apt: waiting for another apt: $(grep -m1 -o 'held by process.*' <<<"$err")"
		sleep 5
	done
	echo "$err" >&2
	return 1
}

# apt_system_update_once: the system's "apt-get update", at most once a day.
apt_system_update_once() {
	local stamp=/var/lib/apt/periodic/iommu-nest-update
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		apt_system update
		mkdir -p "$(dirname "$stamp")" && touch "$stamp"
	fi
}

# kernel_src: print the unpacked linux-source tree every step builds from
# (the newest $CACHE/src/linux-source-*.tar.xz, or LINUX_SOURCE's), unpacking
# it on first use. The one place that knows where the tree lives.
kernel_src() {
	local tar name dir
	if [ -n "$LINUX_SOURCE" ]; then
		tar=$CACHE/src/$LINUX_SOURCE.tar.xz
	else
		tar=$(ls "$CACHE"/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
	fi
	[ -n "$tar" ] && [ -s "$tar" ] ||
		die "no ${LINUX_SOURCE:-linux-source-7.x} tarball in $CACHE/src: run scripts/deps.sh"
	name=$(basename "$tar" .tar.xz)
	dir=$CACHE/src/$name
	if [ ! -e "$dir/.unpacked" ]; then
		(
			flock 8
			if [ ! -e "$dir/.unpacked" ]; then
				log "src: unpacking $name"
				rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
				tar -xJf "$tar" -C "$dir.tmp" --strip-components=1
				mv "$dir.tmp" "$dir" && touch "$dir/.unpacked"
			fi
		) 8>"$dir.lock" >&2 || die "unpacking $tar failed"
	fi
	echo "$dir"
}

# busybox_arm64: the arm64 busybox every test initramfs is built on.
busybox_arm64() {
	local b=$CACHE/busybox-arm64/bin/busybox
	[ -x "$b" ] || die "$b missing: run scripts/deps.sh"
	echo "$b"
}

# efi_firmware: edk2's QEMU_EFI.fd for the UEFI+ACPI profiles.
efi_firmware() {
	local f=$CACHE/efi-aarch64/QEMU_EFI.fd
	[ -s "$f" ] || die "$f missing: run scripts/deps.sh"
	echo "$f"
}

# kernel_src_version: "7.2" for linux-source-7.2 (the Debian package's minor,
# which names linux-config-7.2 and friends).
kernel_src_version() {
	local d
	d=$(kernel_src) || return 1
	d=$(basename "$d")
	echo "${d#linux-source-}"
}

# papt_opts STATE: print (one per line) the apt options of a private state
# under $CACHE/apt/STATE, so suites the system must never list (sid) are
# reachable without touching /etc/apt. STATE is bookworm (bookworm +
# backports, amd64), bookworm-arm64, sid or sid-arm64.
papt_opts() {
	local st=$1 d=$CACHE/apt/$1 m=http://deb.debian.org/debian
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	if [ ! -s "$d/sources.list" ]; then
		case $st in
		bookworm|bookworm-arm64)
			printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-backports main\ndeb http://deb.debian.org/debian-security bookworm-security main\ndeb-src %s bookworm-backports main\n' \
				"$m" "$m" "$m" "$m" >"$d/sources.list" ;;
		sid|sid-arm64)
			printf 'deb %s sid main\n' "$m" >"$d/sources.list" ;;
		*) die "unknown apt state '$st'" ;;
		esac
	fi
	printf '%s\n' -o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache::Archives=$d/archives" \
		-o APT::Sandbox::User=root
	case $st in
	*-arm64) printf '%s\n' -o APT::Architecture=arm64 -o APT::Architectures=arm64 ;;
	esac
}

# papt STATE apt-get-args...: apt-get on a private state (papt_opts).
papt() {
	local o
	mapfile -t o < <(papt_opts "$1")
	shift
	apt-get "${o[@]}" "$@"
}

# papt_cache STATE apt-cache-args...: apt-cache on the same private state.
papt_cache() {
	local o
	mapfile -t o < <(papt_opts "$1")
	shift
	apt-cache "${o[@]}" "$@"
}

# bench_tree: print a copy of the work tree under $RESULTS/bench/tree, for
# benchmarks on the base kernel: modules built there for it leave the work
# tree's debug-kernel modules as they are.
bench_tree() {
	local tree=$RESULTS/bench/tree
	mkdir -p "$tree"
	rsync -a --delete --exclude .git --exclude /results "$TOP/" "$tree/"
	echo "$tree"
}

# inputs_hash [EXTRA...] -- PATH...: a 16-hex-digit key of the contents
# and modes of every file under PATHs that git tracks or would track (so
# uncommitted and new files count; a tree without git: every file), and of
# the EXTRA strings: the cache key of a step that reads exactly those files.
inputs_hash() {
	local extra=()
	while (($#)) && [ "$1" != -- ]; do extra+=("$1"); shift; done
	shift
	{
		printf '%s\n' "${extra[@]}"
		(
			cd "$TOP" || exit 1
			if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
				git ls-files -co --exclude-standard -z -- "$@"
			else
				find "$@" -type f -print0
			fi | sort -zu | while IFS= read -r -d '' f; do
				# a tracked file deleted from the tree counts as absent
				[ -f "$f" ] && printf '%s %s\n' "$(stat -c %a "$f")" "$(sha256sum "$f")"
			done
		)
	} | sha256sum | cut -c1-16
}
