#!/usr/bin/env bash
# Builds trailwatch's .deb and .rpm for amd64 and arm64 and the signed apt and dnf repositories.
#   bash packaging/build-packages.sh [OUTDIR]            (default: out/packages)
# Environment:
#   TRAILWATCH_VERSION=0.1.1   build that version instead of the VERSION file's (upgrade test)
#   ARCHES="amd64 arm64"       which architectures
#   TRAILWATCH_GNUPGHOME, TRAILWATCH_SIGNING_KEY   sign with this key (else a throwaway key is made
#                              under OUTDIR/gnupg, once, and reused by later runs into the same OUTDIR)
#   TRAILWATCH_CCACHE=1        compile through ccache
# Output: OUTDIR/debs, OUTDIR/rpms, OUTDIR/apt (repo), OUTDIR/rpm-repo (repo), OUTDIR/host/ (the lines
# a host adds), OUTDIR/lintian-ARCH.txt, OUTDIR/rpm-checks-ARCH.txt.
set -euo pipefail
t0=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/out/packages}" && cd "${1:-$root/out/packages}" && pwd)
arches=${ARCHES:-amd64 arm64}
base_version=$(head -n1 "$root/VERSION")
version=${TRAILWATCH_VERSION:-$base_version}
log() { printf '[build-packages %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

bash "$root/packaging/install-package-deps.sh" >/dev/null
rm -rf "$out/debs" "$out/rpms" "$out/apt" "$out/rpm-repo" "$out/host" "$out/work"
mkdir -p "$out/debs" "$out/rpms" "$out/host" "$out/work"

# ---- the source tree, with the requested version ------------------------------------------------
src="$out/work/src"
mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$src"
if [ "$version" != "$base_version" ]; then
  echo "$version" > "$src/VERSION"
  { printf 'trailwatch (%s) bookworm; urgency=medium\n\n  * Build of %s for the upgrade test.\n\n' "$version" "$version"
    printf ' -- trailwatch maintainers <maintainers@users.noreply.r-seed-b21c2f42.example>  %s\n\n' "$(date -R)"
    cat "$src/debian/changelog"; } > "$src/debian/changelog.new"
  mv "$src/debian/changelog.new" "$src/debian/changelog"
fi
changelog_version=$(cd "$src" && dpkg-parsechangelog -SVersion)
[ "$changelog_version" = "$version" ] || { echo "debian/changelog is at $changelog_version, VERSION at $version" >&2; exit 1; }

declare -A build_secs
for arch in $arches; do
  # ---- .deb: debian/rules (cross-built for arm64 with the multiarch toolchain) ---------------------
  a0=$(date +%s)
  log "$arch: dpkg-buildpackage"
  work="$out/work/$arch"
  mkdir -p "$work"
  cp -a "$src" "$work/trailwatch-$version"
  cross=()
  if [ "$arch" != "$(dpkg --print-architecture)" ]; then
    # -d: dpkg-checkbuilddeps would want libyaml-cpp-dev:ARCH installed, which Debian 12 cannot
    # co-install with the native one; it is unpacked here instead (toolchain-arm64.cmake finds it).
    cross=(-a "$arch" -d)
    extra="$out/work/extra-$arch"
    mkdir -p "$out/cache" "$extra"
    ls "$out"/cache/libyaml-cpp-dev_*_"$arch".deb >/dev/null 2>&1 ||
      (cd "$out/cache" && apt-get download -qq "libyaml-cpp-dev:$arch")
    dpkg-deb -x "$(ls "$out"/cache/libyaml-cpp-dev_*_"$arch".deb | head -n1)" "$extra"
    triplet=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
    for so in /usr/lib/"$triplet"/libyaml-cpp.so.*; do ln -sf "$so" "$extra/usr/lib/$triplet/"; done
    export TRAILWATCH_CROSS_EXTRA_ROOT=$extra
  fi
  (cd "$work/trailwatch-$version" &&
     DEB_BUILD_OPTIONS="parallel=$(nproc) noddebs" dpkg-buildpackage -b -us -uc "${cross[@]}" ) \
     > "$work/dpkg-buildpackage.log" 2>&1 || { tail -40 "$work/dpkg-buildpackage.log"; exit 1; }
  deb="$work/trailwatch_${version}_${arch}.deb"
  cp "$deb" "$out/debs/"
  build_secs[$arch]=$(( $(date +%s) - a0 ))

  log "$arch: lintian"
  rm -rf "$work/deb-tree" && dpkg-deb -x "$deb" "$work/deb-tree"
  lintian --fail-on error --info --display-info --pedantic "$deb" > "$out/lintian-$arch.txt" 2>&1 \
    || { cat "$out/lintian-$arch.txt"; echo "lintian: errors in $deb" >&2; exit 1; }
  # The man pages must render without a groff warning (lintian: groff-message) and say something.
  if grep -E '^[EW]: .*(groff-message|manpage|man page)' "$out/lintian-$arch.txt"; then
    echo "lintian: man page problems in $deb" >&2; exit 1
  fi
  for page in usr/share/man/man8/trailwatch.8.gz usr/share/man/man5/trailwatch.yaml.5.gz; do
    lines=$(MANWIDTH=80 man -l "$work/deb-tree/$page" 2>/dev/null | wc -l) || true
    [ "${lines:-0}" -gt 20 ] || { echo "man -l $page: ${lines:-0} lines" >&2; exit 1; }
  done

  # ---- .rpm: the same installed tree, with rpm's paths ---------------------------------------------
  log "$arch: rpmbuild"
  stage="$work/rpm-stage"
  dpkg-deb -x "$deb" "$stage"
  mkdir -p "$stage/usr/lib/systemd/system" "$stage/usr/share/licenses/trailwatch"
  mv "$stage/lib/systemd/system/trailwatch.service" "$stage/usr/lib/systemd/system/"
  rm -r "$stage/lib"
  mv "$stage/usr/share/doc/trailwatch/copyright" "$stage/usr/share/licenses/trailwatch/"
  case $arch in amd64) rpmarch=x86_64 ;; arm64) rpmarch=aarch64 ;; *) echo "no rpm arch for $arch" >&2; exit 1 ;; esac
  rpmbuild -bb --quiet --target "$rpmarch-linux" \
    --define "_topdir $work/rpmbuild" --define "tw_version $version" --define "tw_stage $stage" \
    "$src/packaging/rpm/trailwatch.spec" > "$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log"; exit 1; }
  cp "$work/rpmbuild/RPMS/$rpmarch/trailwatch-$version-1.$rpmarch.rpm" "$out/rpms/"
done

# ---- signing key ------------------------------------------------------------------------------------
export GNUPGHOME=${TRAILWATCH_GNUPGHOME:-$out/gnupg}
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
key=${TRAILWATCH_SIGNING_KEY:-}
if [ -z "$key" ]; then
  key=$(gpg --batch --list-secret-keys --with-colons 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
  if [ -z "$key" ]; then
    log "generating a throwaway signing key in $GNUPGHOME"
    gpg --batch --quiet --passphrase '' --quick-gen-key \
      "trailwatch packages (throwaway build key) <maintainers@users.noreply.r-seed-b21c2f42.example>" rsa3072 sign never
    key=$(gpg --batch --list-secret-keys --with-colons | awk -F: '$1=="fpr"{print $10; exit}')
  fi
fi
gpg --batch --yes --export "$key" > "$out/host/trailwatch-archive-keyring.gpg"
gpg --batch --yes --armor --export "$key" > "$out/host/RPM-GPG-KEY-trailwatch"

# ---- apt repository (reprepro, signed Release/InRelease) --------------------------------------------
log "apt repository"
mkdir -p "$out/apt/conf"
cat > "$out/apt/conf/distributions" <<EOT
Origin: trailwatch
Label: trailwatch
Suite: stable
Codename: bookworm
Architectures: amd64 arm64
Components: main
Description: trailwatch packages for Debian 12
SignWith: $key
EOT
for deb in "$out"/debs/*.deb; do
  reprepro --silent -b "$out/apt" includedeb bookworm "$deb"
done
cp "$out/host/trailwatch-archive-keyring.gpg" "$out/apt/"

# ---- dnf repository (createrepo_c; rpms and repomd.xml signed) ----------------------------------------
log "dnf repository"
mkdir -p "$out/rpm-repo"
cp "$out"/rpms/*.rpm "$out/rpm-repo/"
rpmsign --define "__gpg $(command -v gpg)" --define "_gpg_name $key" --define "_gpg_path $GNUPGHOME" --addsign "$out"/rpm-repo/*.rpm > "$out/work/rpmsign.log" 2>&1 \
  || { cat "$out/work/rpmsign.log"; exit 1; }
createrepo_c --quiet "$out/rpm-repo"
gpg --batch --yes --detach-sign --armor -u "$key" "$out/rpm-repo/repodata/repomd.xml"
cp "$out/host/RPM-GPG-KEY-trailwatch" "$out/rpm-repo/"

# ---- what a host adds -----------------------------------------------------------------------------
base_url=${TRAILWATCH_REPO_URL:-https://packages.example.com/trailwatch}
cat > "$out/host/trailwatch.sources" <<EOT
Types: deb
URIs: $base_url/apt
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/trailwatch-archive-keyring.gpg
EOT
echo "deb [signed-by=/usr/share/keyrings/trailwatch-archive-keyring.gpg] $base_url/apt bookworm main" \
  > "$out/host/trailwatch.list"
cat > "$out/host/trailwatch.repo" <<EOT
[trailwatch]
name=trailwatch
baseurl=$base_url/rpm-repo
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=$base_url/rpm-repo/RPM-GPG-KEY-trailwatch
EOT

# ---- rpm checks and summary --------------------------------------------------------------------------
# The signatures are checked against the repository key in a throwaway rpm database (not the host's).
rpmdb="$out/work/rpmdb"
rm -rf "$rpmdb" && mkdir -p "$rpmdb"
rpm --dbpath "$rpmdb" --initdb && rpm --dbpath "$rpmdb" --import "$out/rpm-repo/RPM-GPG-KEY-trailwatch"
for rpm in "$out"/rpms/*.rpm; do
  a=$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)
  { echo "== rpm -qpi"; rpm -qpi "$rpm"; echo "== rpm -qpl"; rpm -qpl "$rpm"
    echo "== rpm -qpc"; rpm -qpc "$rpm"; echo "== rpm -qp --scripts"; rpm -qp --scripts "$rpm"
    echo "== rpm -qp --requires"; rpm -qp --requires "$rpm"; echo "== rpm -K (signed repo copy)"
    rpm --dbpath "$rpmdb" -Kv "$out/rpm-repo/$(basename "$rpm")"; } > "$out/rpm-checks-$a.txt" 2>&1 \
    || { cat "$out/rpm-checks-$a.txt"; echo "rpm checks failed for $rpm" >&2; exit 1; }
done
log "done: version $version, key $key"
printf '%-48s %10s\n' package bytes
for f in "$out"/debs/*.deb "$out"/rpms/*.rpm; do printf '%-48s %10s\n' "$(basename "$f")" "$(stat -c %s "$f")"; done
for arch in $arches; do echo "build $arch (compile + dpkg-buildpackage): ${build_secs[$arch]}s"; done
echo "lintian: $(cat "$out"/lintian-*.txt | grep -c '^[EW]:' || true) errors+warnings (see $out/lintian-*.txt)"
echo "build-packages: total $(( $(date +%s) - t0 ))s"
