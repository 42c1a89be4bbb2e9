#!/bin/bash
# Build our patched qemu-system-x86_64 (qemu-tests/qemu/README.md), called by qemu.mk:
#   build-qemu.sh VERSION SRC_DIR PREFIX PATCH_DIR CONFIGURE_OPTS...
# VERSION   Debian source version of `qemu` (bookworm), e.g. 1:7.2+dfsg-7+deb12u18
# SRC_DIR   where the Debian source is downloaded, unpacked and built (build/qemu-src)
# PREFIX    where the binary goes (build/qemu: PREFIX/bin/qemu-system-x86_64)
# PATCH_DIR our quilt-style series (series + *.patch), applied after Debian's own patches
#
# Incremental: the unpacked tree and the ninja build directory are kept; when the series changes,
# the previously applied patches are reversed and the new ones applied, so ninja recompiles only
# what they touch. A new VERSION starts from a fresh tree.
set -euo pipefail

version=$1 src=$2 prefix=$3 patches=$(cd "$4" && pwd)
shift 4
configure_opts=("$@")
upstream=${version#*:}          # 7.2+dfsg-7+deb12u18
upstream=${upstream%-*}         # 7.2+dfsg
mkdir -p "$src" "$prefix/bin"
src=$(cd "$src" && pwd)
prefix=$(cd "$prefix" && pwd)
tree=$src/qemu-$upstream
bdir=$src/build

step() { echo "qemu: $*"; }

# 1. The Debian source, exactly VERSION (dpkg-source -x also applies debian/patches).
if [ "$(cat "$src/.version" 2>/dev/null)" != "$version" ]; then
	rm -rf "$tree" "$bdir" "$src/.version" "$src/.applied"
	dsc=$(ls "$src"/qemu_"${version#*:}".dsc 2>/dev/null || true)
	if [ -z "$dsc" ]; then
		step "apt-get source --download-only qemu=$version"
		(cd "$src" && apt-get source --download-only -qq "qemu=$version")
		dsc=$(ls "$src"/qemu_"${version#*:}".dsc)
	fi
	# apt-get verified the files against the signed Release; dpkg-source warns that it cannot
	# check the .dsc signature itself without debian-keyring, which is harmless.
	step "unpacking $(basename "$dsc")"
	(cd "$src" && dpkg-source -x "$dsc" "$tree" >/dev/null)
	echo "$version" > "$src/.version"
fi

# 2. Our series: when it differs from what was applied before, reverse the old patches and apply
#    the new ones. Files that end up with the same content get their old mtime back, so ninja
#    recompiles only what really changed.
series() { grep -v '^[[:space:]]*\(#\|$\)' "$1/series"; }
series_id() { (cd "$1" && cat series $(series "$1")) | sha256sum | cut -d' ' -f1; }
touched() { for p in $(series "$1"); do sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1/$p"; done | sort -u; }
if [ -d "$src/.applied" ] && [ "$(series_id "$src/.applied")" != "$(series_id "$patches")" ]; then
	(cd "$tree" && for f in $(touched "$src/.applied"); do
		[ -f "$f" ] && echo "$(sha256sum < "$f" | cut -d' ' -f1) $(stat -c %Y "$f") $f"
	done) > "$src/.before"
	for p in $(series "$src/.applied" | tac); do
		step "reversing $p"
		patch -d "$tree" -p1 -R -s --no-backup-if-mismatch < "$src/.applied/$p" \
			|| { rm -f "$src/.version"; exit 1; }
	done
	rm -rf "$src/.applied"
fi
if [ ! -d "$src/.applied" ]; then
	for p in $(series "$patches"); do
		step "applying $p"
		# A failed patch leaves a half-patched tree: start from a fresh one next time.
		patch -d "$tree" -p1 -s -N --no-backup-if-mismatch < "$patches/$p" \
			|| { rm -f "$src/.version"; exit 1; }
	done
	if [ -f "$src/.before" ]; then
		(cd "$tree" && while read -r sum mtime f; do
			[ -f "$f" ] && [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$sum" ] && touch -d "@$mtime" "$f"
		done) < "$src/.before"
		rm -f "$src/.before"
	fi
	mkdir -p "$src/.applied"
	(cd "$patches" && cp series $(series "$patches") "$src/.applied/")
fi

# 3. Configure once per option set, out of tree.
if [ "$(cat "$bdir/.configure-opts" 2>/dev/null)" != "${configure_opts[*]}" ]; then
	rm -rf "$bdir"
	mkdir -p "$bdir"
	step "configure ${configure_opts[*]}"
	(cd "$bdir" && "$tree/configure" --prefix="$prefix" "${configure_opts[@]}" > configure.log 2>&1) \
		|| { tail -30 "$bdir/configure.log"; exit 1; }
	echo "${configure_opts[*]}" > "$bdir/.configure-opts"
fi

# 4. Only the one binary; two jobs at most (the machine is shared), niced.
step "ninja qemu-system-x86_64 (-j2)"
start=$(date +%s)
nice -n 10 ninja -C "$bdir" -j2 qemu-system-x86_64 > "$bdir/ninja.log" 2>&1 \
	|| { grep -v '^\[' "$bdir/ninja.log" | tail -40; exit 1; }
install -m 0755 "$bdir/qemu-system-x86_64" "$prefix/bin/qemu-system-x86_64"
step "built in $(( $(date +%s) - start )) s: $prefix/bin/qemu-system-x86_64"
