#!/usr/bin/env bash
# Builds what users install, into OUT:
#   calicoctl_<version>_amd64.deb                          (dpkg-deb)
#   calicoctl-<version>-x86_64-unknown-linux-gnu.tar.gz    (one top folder)
#   a .sha256 beside each, in `sha256sum -c` form.
#
#   bash packaging/build.sh OUT
#
# Reproducible: two builds from one commit give the same bytes. Every time
# stamp is SOURCE_DATE_EPOCH (the commit's time unless set), archives are
# sorted with numeric root ownership, gzip runs with -n, and the build's own
# paths are remapped out of the binary. dpkg-deb, not cargo-deb: it is
# already on every Debian machine (no tool to build first, in CI or by a
# packager), and the control file and layout stay ours to read and review
# in this one script.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: bash packaging/build.sh OUT" >&2; exit 2; }
cd "$(dirname "$0")/.."
ROOT=$PWD
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
TRIPLE=x86_64-unknown-linux-gnu
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export TZ=UTC LC_ALL=C.UTF-8
umask 022

# The binary: static, as .cargo/config.toml builds it, with the paths of
# this checkout and of cargo's registry remapped (a clone elsewhere builds
# the same bytes).
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
FLAGS="[\"--remap-path-prefix=$ROOT=/build/calicoctl\", \"--remap-path-prefix=$CARGO_HOME=/build/cargo\"]"
cargo build --profile dist --locked --quiet --target "$TRIPLE" \
  --config "target.'cfg(all(target_os = \"linux\", target_env = \"gnu\"))'.rustflags=$FLAGS"
BIN=$ROOT/target/$TRIPLE/dist/calicoctl

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# What both the package and the archive ship: man pages (gzipped), the
# three completions.
GEN=$WORK/gen
mkdir -p "$GEN/man" "$GEN/completions"
"$BIN" man --out-dir "$GEN/man" 2>/dev/null
for page in "$GEN"/man/*.1; do gzip -n -9 "$page"; done
"$BIN" completion bash > "$GEN/completions/calicoctl.bash"
"$BIN" completion zsh > "$GEN/completions/_calicoctl"
"$BIN" completion fish > "$GEN/completions/calicoctl.fish"

stamp() { find "$1" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +; }

# --- The Debian package -----------------------------------------------------
PKG=$WORK/deb
install -D -m 0755 "$BIN" "$PKG/usr/bin/calicoctl"
install -d "$PKG/usr/share/man/man1"
install -m 0644 "$GEN"/man/*.1.gz "$PKG/usr/share/man/man1/"
install -D -m 0644 "$GEN/completions/calicoctl.bash" "$PKG/usr/share/bash-completion/completions/calicoctl"
install -D -m 0644 "$GEN/completions/_calicoctl" "$PKG/usr/share/zsh/vendor-completions/_calicoctl"
install -D -m 0644 "$GEN/completions/calicoctl.fish" "$PKG/usr/share/fish/vendor_completions.d/calicoctl.fish"
DOC=$PKG/usr/share/doc/calicoctl
install -d "$DOC"
install -m 0644 packaging/copyright "$DOC/copyright"
DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
sed -e "s/@VERSION@/$VERSION/" -e "s/@DATE@/$DATE/" packaging/changelog.in > "$DOC/changelog"
gzip -n -9 "$DOC/changelog"
install -d "$PKG/usr/share/lintian/overrides"
install -m 0644 packaging/lintian-overrides "$PKG/usr/share/lintian/overrides/calicoctl"

# The static binary still loads glibc's NSS modules at run time (host
# names in can-reach=<name>): libc6 of at least the version it was built
# with.
GLIBC=$(dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//')
SIZE=$(du -k -s --apparent-size "$PKG/usr" | cut -f1)
install -d "$PKG/DEBIAN"
sed -e "s/@VERSION@/$VERSION/" -e "s/@GLIBC@/$GLIBC/" -e "s/@SIZE@/$SIZE/" \
  packaging/control.in > "$PKG/DEBIAN/control"
(cd "$PKG" && find usr -type f | sort | xargs md5sum) > "$PKG/DEBIAN/md5sums"
chmod 0644 "$PKG/DEBIAN/control" "$PKG/DEBIAN/md5sums"
stamp "$PKG"
DEB=calicoctl_${VERSION}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$OUT/$DEB" > /dev/null

# --- The release archive ----------------------------------------------------
NAME=calicoctl-$VERSION-$TRIPLE
TOP=$WORK/tar/$NAME
install -D -m 0755 "$BIN" "$TOP/calicoctl"
install -m 0644 README.md LICENSE "$TOP/"
install -d "$TOP/man" "$TOP/completions"
install -m 0644 "$GEN"/man/*.1.gz "$TOP/man/"
install -m 0644 "$GEN"/completions/* "$TOP/completions/"
stamp "$TOP"
TGZ=$NAME.tar.gz
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  --format=gnu -C "$WORK/tar" -cf - "$NAME" | gzip -n -9 > "$OUT/$TGZ"

(cd "$OUT" && sha256sum "$DEB" > "$DEB.sha256" && sha256sum "$TGZ" > "$TGZ.sha256")
echo "$OUT/$DEB"
echo "$OUT/$TGZ"
