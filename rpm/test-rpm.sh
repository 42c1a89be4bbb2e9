#!/usr/bin/env bash
# Check the secure-kernel-loader RPM against what the spec promises and
# against the tested payload. Fails (non-zero) on the first mismatch.
#   rpm/test-rpm.sh <package.rpm> <tested skl.bin> <spec>
set -euo pipefail
rpm_file=$(realpath "$1")
tested=$(realpath "$2")
spec=$3
fail() { echo "rpm-test: FAIL: $*" >&2; exit 1; }

[ -f "$rpm_file" ] || fail "no package at $rpm_file"

# Metadata the spec promises.
name=$(rpm -qp --qf '%{NAME}' "$rpm_file")
arch=$(rpm -qp --qf '%{ARCH}' "$rpm_file")
license=$(rpm -qp --qf '%{LICENSE}' "$rpm_file")
version=$(rpm -qp --qf '%{VERSION}' "$rpm_file")
want_version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[ "$name" = secure-kernel-loader ] || fail "name $name"
[ "$arch" = x86_64 ] || fail "arch $arch"
[ "$license" = GPL-2.0-or-later ] || fail "license $license"
[ "$version" = "$want_version" ] || fail "version $version, workspace says $want_version"

# What a Qubes builder must install: every tool the %build section runs.
# (rpmbuild ran with --nodeps here, so the list is checked as text.)
want_br="binutils cargo >= 1.95 make python3 rust >= 1.95 rust-std-static-x86_64-unknown-none"
br=$(sed -n 's/^BuildRequires:[[:space:]]*//p' "$spec" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$br" = "$want_br" ] || fail "BuildRequires: $br"
# The source tarball carries every crate: the build above had an empty CARGO_HOME.
tarball=$(dirname "$rpm_file")/../../SOURCES/secure-kernel-loader-$version.tar.gz
listing=$(tar -tzf "$tarball")
grep -qx "secure-kernel-loader-$version/vendor/cargo-config.toml" <<<"$listing" || fail "no vendor/ in $tarball"
url=$(rpm -qp --qf '%{URL}' "$rpm_file")
[ "$url" = https://github.com/TrenchBoot/secure-kernel-loader-rs ] || fail "URL $url"

# File list and modes (rpm --dump: path size mtime digest mode owner group ...).
# %license lands in /usr/share/licenses/<name> (Fedora/Qubes) or <name>-<version> (Debian's rpm).
want_files="/boot/skl.bin
/boot/skl-amdsl.bin
/boot/skl-amdsl-psp.bin
/boot/skl-txt.bin
/usr/share/doc/secure-kernel-loader/amd-sl.md
/usr/share/doc/secure-kernel-loader/README.md
/usr/share/doc/secure-kernel-loader/design.md
/usr/share/doc/secure-kernel-loader/launch-errors.md
/usr/share/doc/secure-kernel-loader/psp-drtm.md
/usr/share/licenses/secure-kernel-loader/COPYING"
# %doc likewise lands in /usr/share/doc/<name> or <name>-<version>.
files=$(rpm -qpl "$rpm_file" | sed -E "s,^/usr/share/(licenses|doc)/secure-kernel-loader-$version,/usr/share/\1/secure-kernel-loader," \
        | grep -vx '/usr/share/licenses/secure-kernel-loader' | grep -vx '/usr/share/doc/secure-kernel-loader' | sort)
[ "$files" = "$(echo "$want_files" | sort)" ] || fail "file list:
$files"
mode=$(rpm -qp --dump "$rpm_file" | awk '$1 == "/boot/skl.bin" { print $5 }')
[ "$mode" = 0100644 ] || fail "/boot/skl.bin mode $mode"

# Install into a temporary root: the payload lands at /boot/skl.bin and is
# the tested binary, byte for byte.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
(cd "$root" && rpm2cpio "$rpm_file" | cpio -idm --quiet)
[ -f "$root/boot/skl.bin" ] || fail "no /boot/skl.bin in the package"
cmp "$root/boot/skl.bin" "$tested" || fail "/boot/skl.bin differs from the tested $tested"
[ "$(stat -c %a "$root/boot/skl.bin")" = 644 ] || fail "installed mode"
rpm --root "$root/rpmroot" --dbpath /var/lib/rpm --initdb
rpm --root "$root/rpmroot" --dbpath /var/lib/rpm --nodeps --noscripts --ignorearch -i "$rpm_file"
cmp "$root/rpmroot/boot/skl.bin" "$tested" || fail "rpm -i installed a different skl.bin"
# skl-amdsl.bin: the tested one next to the tested skl.bin.
cmp "$root/boot/skl-amdsl.bin" "$(dirname "$tested")/skl-amdsl.bin" || fail "/boot/skl-amdsl.bin differs from the tested one"
# skl-amdsl-psp.bin: the tested UNSIGNED PSP image (zeroed $AS1 area), and
# the packaged skl-tool must be able to sign it (below, with a throwaway key).
cmp "$root/boot/skl-amdsl-psp.bin" "$(dirname "$tested")/skl-amdsl-psp.bin" || fail "/boot/skl-amdsl-psp.bin differs from the tested one"
# skl-txt.bin: the tested ELF-wrapped MLE, mode 0644 (GRUB reads it; nothing executes it).
cmp "$root/boot/skl-txt.bin" "$(dirname "$tested")/skl-txt.bin" || fail "/boot/skl-txt.bin differs from the tested one"
mode=$(rpm -qp --dump "$rpm_file" | awk '$1 == "/boot/skl-txt.bin" { print $5 }')
[ "$mode" = 0100644 ] || fail "/boot/skl-txt.bin mode $mode"

# rpmlint: no errors. Accepted warnings are explained in the spec's comments
# (no-changelogname-tag style and packager warnings depend on the host).
lint=$(rpmlint -c rpm/rpmlint.toml "$rpm_file" 2>&1 || true)
echo "$lint" | tail -3
if echo "$lint" | grep -E '^[^ ]+: E: ' >/dev/null; then
  fail "rpmlint errors:
$lint"
fi
# The tools sub-package: skl-tool in /usr/bin, runs, reads the packaged skl.bin.
tools=${rpm_file/secure-kernel-loader-/secure-kernel-loader-tools-}
[ -f "$tools" ] || fail "no tools package next to $rpm_file"
[ "$(rpm -qpl "$tools")" = /usr/bin/skl-tool ] || fail "tools file list: $(rpm -qpl "$tools")"
(cd "$root" && rpm2cpio "$tools" | cpio -idm --quiet)
"$root/usr/bin/skl-tool" info "$root/boot/skl.bin" | grep -q "measured size" || fail "packaged skl-tool cannot read skl.bin"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$root/k.pem" 2>/dev/null
"$root/usr/bin/skl-tool" psp sign --key "$root/k.pem" "$root/boot/skl-amdsl-psp.bin" -o "$root/signed.bin" >/dev/null \
  || fail "packaged skl-tool cannot sign skl-amdsl-psp.bin"
"$root/usr/bin/skl-tool" psp verify --key "$root/k.pem" "$root/signed.bin" >/dev/null || fail "packaged skl-tool: signature does not verify"
lint=$(rpmlint -c rpm/rpmlint.toml "$tools" 2>&1 || true)
if echo "$lint" | grep -E '^[^ ]+: E: ' >/dev/null; then
  fail "rpmlint errors (tools):
$lint"
fi
echo "rpm-test: ok ($rpm_file, /boot/skl.bin == $tested; tools package ok)"
