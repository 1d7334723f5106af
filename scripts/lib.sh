# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the harness scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IOMMU_NEST_CACHE:-/var/cache/iommu-nest}
RESULTS=${RESULTS:-$TOP/results}
KVER_MAJOR=${KVER_MAJOR:-7.2}
export CACHE RESULTS

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_system_update_once() {
	local stamp=/var/lib/apt/periodic/iommu-nest-update
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		apt-get update >/dev/null
		mkdir -p "$(dirname "$stamp")" && touch "$stamp"
	fi
}

# papt STATE apt-get-args...: apt-get on a private state under $CACHE/apt/STATE,
# so suites the system must never list (sid) are reachable without touching
# /etc/apt. STATE is bookworm (bookworm + backports, amd64), sid, or
# bookworm-arm64.
papt() {
	local st=$1; shift
	local d=$CACHE/apt/$st
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	if [ ! -s "$d/sources.list" ]; then
		local m=http://deb.debian.org/debian
		case $st in
		bookworm|bookworm-arm64)
			printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-backports main\ndeb http://deb.debian.org/debian-security bookworm-security main\ndeb-src %s bookworm-backports main\n' \
				"$m" "$m" "$m" "$m" >"$d/sources.list" ;;
		sid)
			printf 'deb %s sid main\n' "$m" >"$d/sources.list" ;;
		esac
	fi
	local arch=()
	[ "$st" = bookworm-arm64 ] && arch=(-o APT::Architecture=arm64 -o APT::Architectures=arm64)
	apt-get -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache::Archives="$d/archives" \
		"${arch[@]}" "$@"
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
