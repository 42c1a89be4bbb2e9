#!/bin/bash
# Regenerate the series from a working tree: refresh-patches.sh TREE
# TREE is a git repository of the unpacked Debian source whose tag `debian-base` is the tree as
# dpkg-source -x left it, with one commit per patch on top (git init; git add -A; git commit;
# git tag debian-base; then edit and commit). Dates and signatures are stripped so that the
# patches (and so qemu.mk's build stamp) change only when the code does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rm -f "$here"/[0-9][0-9][0-9][0-9]-*.patch
git -C "$1" format-patch -q --no-numbered --zero-commit --no-signature -o "$here" debian-base..HEAD
sed -i '/^Date: /d' "$here"/[0-9][0-9][0-9][0-9]-*.patch
(cd "$here" && ls [0-9][0-9][0-9][0-9]-*.patch > series)
cat "$here/series"
