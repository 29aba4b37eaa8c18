#!/usr/bin/env bash
# Install / upgrade / remove / purge test of the .deb from the signed apt repository, in a real Debian 12
# root (mmdebstrap, variant apt), plus the .rpm checked with rpm into a throwaway rpm database root.
#   bash packaging/test-install.sh [PKGDIR]      (default out/packages, from packaging/build-packages.sh)
# It builds the upgrade (version VERSION+1 by default, amd64 only) into PKGDIR-upgrade with the same
# signing key, unless that directory already holds that version. Needs root (chroot, mount).
# Environment: MIRROR (default http://deb.debian.org/debian), UPGRADE_VERSION, KEEP_ROOT=1 (keep the root).
#
# systemd does not run in a chroot: the maintainer scripts see no /run/systemd/system and skip
# daemon-reload, try-restart and stop, as policy wants. What the test checks instead: enabling is
# deb-systemd-helper's multi-user.target.wants link (made without systemd; it must appear on install,
# survive the upgrade and go on purge), and the installed postinst/prerm carry the try-restart on
# upgrade / stop on remove (tests/vm/boot-test.sh runs the unit under a booted systemd).
set -euo pipefail
t0=$(date +%s)
src=$(cd "$(dirname "$0")/.." && pwd)
pkgs=$(cd "${1:-$src/out/packages}" && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
base_version=$(dpkg-deb -f "$(ls "$pkgs"/debs/trailwatch_*_amd64.deb | head -n1)" Version)
upgrade_version=${UPGRADE_VERSION:-$base_version+1}
upgrade_pkgs="$pkgs-upgrade"
work="$src/out/test-install"
cache="$src/out/cache"
tarball="$cache/debian12-apt.tar"
root="$work/root"
log() { printf '[test-install %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); printf '  ok  %s\n' "$*"; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
apt_in_root() { in_root apt-get -q -y -o APT::Install-Recommends=false "$@" < /dev/null; }

[ "$(id -u)" -eq 0 ] || fail "needs root (chroot, mount)"
[ -f "$pkgs/apt/dists/bookworm/InRelease" ] || fail "no signed apt repository in $pkgs/apt (run build-packages.sh)"
bash "$src/packaging/install-package-deps.sh" > /dev/null

# ---- the upgrade build (same key, higher version) ------------------------------------------------
# Rebuilt too when older than the base repository: apt keeps a cached Release over one with an older
# Date (no rollback), so an older "upgrade" repository would never be read.
if ! ls "$upgrade_pkgs/debs/trailwatch_${upgrade_version}_amd64.deb" > /dev/null 2>&1 ||
   [ "$upgrade_pkgs/apt/dists/bookworm/InRelease" -ot "$pkgs/apt/dists/bookworm/InRelease" ]; then
  log "building $upgrade_version into $upgrade_pkgs (amd64)"
  TRAILWATCH_VERSION=$upgrade_version ARCHES=amd64 TRAILWATCH_GNUPGHOME="$pkgs/gnupg" \
    bash "$src/packaging/build-packages.sh" "$upgrade_pkgs" > "$work.upgrade-build.log" 2>&1 \
    || { tail -30 "$work.upgrade-build.log"; fail "upgrade build"; }
fi
cmp -s "$pkgs/host/trailwatch-archive-keyring.gpg" "$upgrade_pkgs/host/trailwatch-archive-keyring.gpg" \
  || fail "the upgrade repository is signed with another key"

# ---- the Debian 12 root ------------------------------------------------------------------------------
mkdir -p "$cache" "$work"
if [ ! -f "$tarball" ]; then
  log "mmdebstrap bookworm (variant apt) -> $tarball"
  # ca-certificates as on any real host (the agent speaks HTTPS to AWS).
  mmdebstrap --quiet --variant=apt --mode=root --format=tar --include=ca-certificates bookworm "$tarball.partial" "$mirror"
  mv "$tarball.partial" "$tarball"
fi
cleanup() {
  mountpoint -q "$root/proc" && umount "$root/proc" || true
  [ "${KEEP_ROOT:-0}" = 1 ] || rm -rf "$root"
}
trap cleanup EXIT
cleanup
mkdir -p "$root"
tar -xf "$tarball" -C "$root"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The repository as a host adds it: the key in /usr/share/keyrings, a deb822 entry with Signed-By.
publish_repo() {  # the file:// repository lives in the root at /srv/trailwatch
  # Copied with fresh times, as a server publishes: apt's file: method treats an InRelease no newer
  # than the cached one as unchanged (the upgrade repository may have been built before the base one).
  rm -rf "$root/srv/trailwatch" && mkdir -p "$root/srv/trailwatch"
  cp -r "$1/apt" "$root/srv/trailwatch/apt" && chmod -R a+rX "$root/srv/trailwatch"
}
publish_repo "$pkgs"
install -m 0644 "$pkgs/host/trailwatch-archive-keyring.gpg" "$root/usr/share/keyrings/"
sources="$root/etc/apt/sources.list.d/trailwatch.sources"
write_sources() {
  printf 'Types: deb\nURIs: file:/srv/trailwatch/apt\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' "$1" > "$sources"
}

# apt verifies the signature: with another key in Signed-By the repository is refused.
write_sources /usr/share/keyrings/debian-archive-keyring.gpg
in_root apt-get -q update > "$work/update-wrongkey.log" 2>&1 || true
grep -qE "NO_PUBKEY|not signed|is not signed" "$work/update-wrongkey.log" || { cat "$work/update-wrongkey.log"; fail "apt accepted the repository under a wrong key"; }
! in_root apt-cache show trailwatch > /dev/null 2>&1 || fail "trailwatch is known to apt from a repository whose signature did not verify"
ok "apt refuses the repository when Signed-By names another key (NO_PUBKEY)"

write_sources /usr/share/keyrings/trailwatch-archive-keyring.gpg
log "apt-get update (Debian mirror + local signed repository)"
in_root apt-get -q update > "$work/update.log" 2>&1 || { cat "$work/update.log"; fail "apt-get update"; }
! grep -qiE "^(W|E):.*trailwatch" "$work/update.log" || { cat "$work/update.log"; fail "apt warned about the repository"; }
policy=$(in_root apt-cache policy trailwatch)  # not piped into grep -q: SIGPIPE + pipefail would fail at random
grep -q "Candidate: $base_version" <<< "$policy" || { echo "$policy"; fail "no candidate $base_version"; }
ok "apt-get update verifies InRelease with the repository key; candidate $base_version"

# File list of the root before install (the package database, apt's caches and the test's own repository
# copy under /srv/trailwatch left out).
snapshot() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./run -o -path ./tmp -o -path ./srv/trailwatch \
      -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/lib/dpkg -o -path ./var/log/apt \
      -o -path ./var/log/dpkg.log -o -path ./var/log/alternatives.log -o -path ./etc/ld.so.cache \) -prune \
      -o -printf '%y %p\n' | LC_ALL=C sort)
}
snapshot > "$work/files-before.txt"

# ---- install ---------------------------------------------------------------------------------------------
log "apt-get install trailwatch"
apt_in_root install trailwatch > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }
[ "$(in_root dpkg-query -W -f='${Status} ${Version}' trailwatch)" = "install ok installed $base_version" ] \
  || fail "dpkg status after install"
ok "apt-get install trailwatch: $base_version installed with its dependencies from Debian"
for f in /usr/bin/trailwatch /lib/systemd/system/trailwatch.service /etc/trailwatch/trailwatch.yaml \
         /usr/share/man/man8/trailwatch.8.gz /usr/share/man/man5/trailwatch.yaml.5.gz \
         /usr/share/doc/trailwatch/copyright /usr/share/doc/trailwatch/changelog.gz; do
  [ -e "$root$f" ] || fail "$f missing after install"
done
ok "files: binary, unit, config, man pages (8) and (5), copyright, changelog"
in_root dpkg-query -W -f='${Conffiles}\n' trailwatch | grep -q '/etc/trailwatch/trailwatch.yaml' \
  || fail "/etc/trailwatch/trailwatch.yaml is not a conffile"
ok "/etc/trailwatch/trailwatch.yaml is a conffile"
wants="$root/etc/systemd/system/multi-user.target.wants/trailwatch.service"
[ "$(readlink "$wants")" = /lib/systemd/system/trailwatch.service ] || fail "not enabled: no $wants link"
ok "enabled on install: multi-user.target.wants/trailwatch.service -> /lib/systemd/system/trailwatch.service"
grep -q "try-restart 'trailwatch.service'" "$root/var/lib/dpkg/info/trailwatch.postinst" \
  && grep -q 'if \[ -n "\$2" \]' "$root/var/lib/dpkg/info/trailwatch.postinst" || fail "postinst lacks the try-restart on upgrade"
grep -q 'deb-systemd-invoke stop trailwatch.service' "$root/var/lib/dpkg/info/trailwatch.prerm" || fail "prerm does not stop"
! grep -qE 'deb-systemd-invoke (start|restart) ' "$root/var/lib/dpkg/info/trailwatch.postinst" || fail "postinst starts the service"
ok "maintainer scripts: no start on install, try-restart only on upgrade (\$2 set), stop in prerm remove"

v=$(in_root trailwatch version)
grep -qF "$base_version" <<< "$v" || fail "trailwatch version says '$v'"
ok "trailwatch version: $v"
in_root trailwatch validate --config /etc/trailwatch/trailwatch.yaml > "$work/validate.log" 2>&1 \
  || { cat "$work/validate.log"; fail "validate rejects the shipped config"; }
ok "trailwatch validate --config /etc/trailwatch/trailwatch.yaml: valid"

# What systemd does for the DynamicUser unit on first start: private dirs and the links to them.
mkdir -p "$root/var/lib/private/trailwatch" "$root/var/log/private/trailwatch"
chmod 0700 "$root/var/lib/private" "$root/var/log/private"
ln -s private/trailwatch "$root/var/lib/trailwatch"
ln -s private/trailwatch "$root/var/log/trailwatch"
echo "agent log line" > "$root/var/log/private/trailwatch/trailwatch.log"
mkdir -p "$root/root/tw"
cp "$src/tests/data/audit/sample-audit.log" "$root/root/tw/audit.log"
sed 's|^  state_dir: state$|  state_dir: /var/lib/trailwatch|' "$src/packaging/test-once.yaml" > "$root/root/tw/local.yaml"
grep -q 'state_dir: /var/lib/trailwatch' "$root/root/tw/local.yaml" || fail "test-once.yaml: no state_dir line to point at /var/lib/trailwatch"
in_root trailwatch validate --config /root/tw/local.yaml > /dev/null || fail "validate local.yaml"
in_root trailwatch once --config /root/tw/local.yaml > "$work/once.jsonl" 2> "$work/once.err" \
  || { cat "$work/once.err"; fail "trailwatch once"; }
python3 - "$work/once.jsonl" <<'PY' || fail "trailwatch once output"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
text = json.dumps(recs)
assert recs and "eventName" in text and "MetricName" in text, text[:400]
print(f"  ok  trailwatch once: {len(recs)} JSON lines with metric data and trail events")
PY
checks=$((checks + 1))
touch "$root/var/lib/private/trailwatch/checkpoint-marker"

# ---- upgrade, with an edited conffile ---------------------------------------------------------------------
echo "# edited by the administrator (test-install)" >> "$root/etc/trailwatch/trailwatch.yaml"
publish_repo "$upgrade_pkgs"
in_root apt-get -q update > "$work/update2.log" 2>&1 || { cat "$work/update2.log"; fail "apt-get update (upgrade)"; }
log "apt-get upgrade to $upgrade_version"
apt_in_root install trailwatch > "$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "apt-get upgrade"; }
[ "$(in_root dpkg-query -W -f='${Version}' trailwatch)" = "$upgrade_version" ] || fail "not upgraded"
v=$(in_root trailwatch version)
grep -qF "$upgrade_version" <<< "$v" || fail "after upgrade trailwatch version says '$v'"
ok "upgraded from the repository: dpkg $upgrade_version, trailwatch version: $v"
grep -q '^# edited by the administrator (test-install)$' "$root/etc/trailwatch/trailwatch.yaml" || fail "edited config lost on upgrade"
[ ! -e "$root/etc/trailwatch/trailwatch.yaml.dpkg-new" ] && [ ! -e "$root/etc/trailwatch/trailwatch.yaml.dpkg-dist" ] \
  || fail "upgrade left a .dpkg-new/.dpkg-dist"
ok "edited /etc/trailwatch/trailwatch.yaml kept on upgrade, no prompt"
[ -L "$wants" ] || fail "enable link lost on upgrade"
[ -e "$root/var/lib/private/trailwatch/checkpoint-marker" ] || fail "state lost on upgrade"
ok "still enabled, state kept across the upgrade"

# ---- remove: binary gone, config and state stay ---------------------------------------------------------
log "apt-get remove"
apt_in_root remove trailwatch > "$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "apt-get remove"; }
[ ! -e "$root/usr/bin/trailwatch" ] || fail "binary left after remove"
[ "$(in_root dpkg-query -W -f='${Status}' trailwatch)" = "deinstall ok config-files" ] || fail "status after remove"
grep -q 'edited by the administrator' "$root/etc/trailwatch/trailwatch.yaml" || fail "config gone on remove"
[ -e "$root/var/lib/private/trailwatch/checkpoint-marker" ] || fail "state gone on remove (only purge removes it)"
ok "apt-get remove: binary gone; config (edited), state kept; status config-files"

# ---- purge: nothing left ------------------------------------------------------------------------------------
log "apt-get purge + autoremove"
apt_in_root purge trailwatch > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge"; }
apt_in_root autoremove --purge > "$work/autoremove.log" 2>&1 || { cat "$work/autoremove.log"; fail "apt-get autoremove"; }
[ -z "$(in_root dpkg -L trailwatch 2>/dev/null)" ] || fail "dpkg -L trailwatch not empty after purge"
[ -z "$(in_root dpkg-query -W -f='${Status}' trailwatch 2>/dev/null)" ] || fail "trailwatch still known to dpkg"
for p in /etc/trailwatch /var/lib/trailwatch /var/lib/private/trailwatch /var/log/trailwatch \
         /var/log/private/trailwatch "${wants#"$root"}" /var/lib/systemd/deb-systemd-helper-enabled/trailwatch.service.dsh-also; do
  [ ! -e "$root$p" ] && [ ! -L "$root$p" ] || fail "$p left after purge"
done
ok "apt-get purge: dpkg -L empty; /etc/trailwatch, state and log dirs and their links, enable link gone"
rm -rf "$root/root/tw"
snapshot > "$work/files-after.txt"
if ! diff -u "$work/files-before.txt" "$work/files-after.txt" > "$work/files.diff"; then
  echo "  file list of the root, before install vs after purge + autoremove:"
  sed 's/^/    /' "$work/files.diff"
  fail "the root differs after purge"
fi
ok "file list of the root after purge + autoremove = before install ($(wc -l < "$work/files-before.txt") entries)"

# ---- rpm ---------------------------------------------------------------------------------------------------
log "rpm checks"
rpm_file=$(ls "$pkgs"/rpm-repo/trailwatch-*.x86_64.rpm | head -n1)
rpm_up=$(ls "$upgrade_pkgs"/rpm-repo/trailwatch-*.x86_64.rpm | head -n1)
for arch in x86_64 aarch64; do
  r=$(ls "$pkgs"/rpm-repo/trailwatch-*."$arch".rpm)
  files=$(rpm -qpl "$r" 2>/dev/null)
  for f in /usr/bin/trailwatch /usr/lib/systemd/system/trailwatch.service /etc/trailwatch/trailwatch.yaml \
           /usr/share/man/man8/trailwatch.8.gz /usr/share/man/man5/trailwatch.yaml.5.gz \
           /usr/share/licenses/trailwatch/copyright; do
    grep -qx "$f" <<< "$files" || fail "rpm -qpl $r lacks $f"
  done
  [ "$(rpm -qp --qf '%{ARCH} %{VERSION}' "$r" 2>/dev/null)" = "$arch $base_version" ] || fail "rpm arch/version of $r"
  rpm -qpc "$r" 2>/dev/null | grep -qx /etc/trailwatch/trailwatch.yaml || fail "config not %config in $r"
  [ "$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$r" 2>/dev/null | grep ' /etc/trailwatch/trailwatch.yaml$' | cut -d' ' -f1)" = cn ] \
    || fail "/etc/trailwatch/trailwatch.yaml is not %config(noreplace) in $r"
  scripts=$(rpm -qp --scripts "$r" 2>/dev/null)
  for s in 'systemctl --no-reload enable trailwatch.service' 'systemctl --no-reload disable trailwatch.service' \
           'systemctl stop trailwatch.service' 'systemctl try-restart trailwatch.service' \
           'rm -rf /var/lib/private/trailwatch /var/log/private/trailwatch /var/lib/trailwatch /var/log/trailwatch'; do
    grep -qF "$s" <<< "$scripts" || fail "rpm -qp --scripts $r lacks: $s"
  done
  for s in postinstall preuninstall postuninstall; do grep -q "^$s scriptlet" <<< "$scripts" || fail "no %$s in $r"; done
  ok "rpm $arch: files, %config(noreplace) config, %post/%preun/%postun scripts ($(basename "$r"))"
done
rdb="$work/rpmroot"
rm -rf "$rdb" && mkdir -p "$rdb"
rpm --root "$rdb" --initdb
if rpm --root "$rdb" -K "$rpm_file" > "$work/rpmK-nokey.log" 2>&1; then
  grep -qi 'NOKEY\|not OK' "$work/rpmK-nokey.log" || { cat "$work/rpmK-nokey.log"; fail "rpm -K passed without the key"; }
fi
rpm --root "$rdb" --import "$pkgs/rpm-repo/RPM-GPG-KEY-trailwatch"
out=$(rpm --root "$rdb" -K "$rpm_file" "$rpm_up" 2>&1) || { echo "$out"; fail "rpm -K"; }
grep -c 'digests signatures OK' <<< "$out" | grep -qx 2 || { echo "$out"; fail "rpm -K: signatures not OK"; }
ok "rpm -K: digests and signatures OK with the repository key (NOKEY without it)"
gpg --batch --quiet --no-default-keyring --keyring "$work/rpmkey.kbx" --import "$pkgs/rpm-repo/RPM-GPG-KEY-trailwatch" 2>/dev/null
gpgv --keyring "$work/rpmkey.kbx" "$pkgs/rpm-repo/repodata/repomd.xml.asc" "$pkgs/rpm-repo/repodata/repomd.xml" 2>/dev/null \
  || fail "repomd.xml signature"
grep -q 'trailwatch' <(zcat -f "$pkgs"/rpm-repo/repodata/*-primary.xml*) || fail "trailwatch not in the dnf repository's primary.xml"
ok "dnf repository: repomd.xml.asc verifies, primary.xml lists trailwatch"
# Install, upgrade (edited config kept) and erase in the rpm root; scripts off (no shell in that root).
rpm --root "$rdb" -i --nodeps --noscripts "$rpm_file"
[ "$(rpm --root "$rdb" -q --qf '%{VERSION}' trailwatch)" = "$base_version" ] && [ -x "$rdb/usr/bin/trailwatch" ] \
  || fail "rpm -i into $rdb"
rpm --root "$rdb" -V --nodeps trailwatch > "$work/rpmV.log" 2>&1 || { cat "$work/rpmV.log"; fail "rpm -V (files) after install"; }
echo "# edited (test-install)" >> "$rdb/etc/trailwatch/trailwatch.yaml"
rpm --root "$rdb" -U --nodeps --noscripts "$rpm_up"
[ "$(rpm --root "$rdb" -q --qf '%{VERSION}' trailwatch)" = "$upgrade_version" ] || fail "rpm -U"
grep -q 'edited (test-install)' "$rdb/etc/trailwatch/trailwatch.yaml" || fail "rpm -U replaced the edited config"
rpm --root "$rdb" -e --nodeps --noscripts trailwatch
! rpm --root "$rdb" -q trailwatch > /dev/null 2>&1 || fail "rpm -e"
[ ! -e "$rdb/usr/bin/trailwatch" ] && [ -f "$rdb/etc/trailwatch/trailwatch.yaml.rpmsave" ] || fail "rpm -e: binary left or edited config not saved as .rpmsave"
ok "rpm root: -i $base_version, -U $upgrade_version keeps the edited config, -e saves it as .rpmsave"

log "PASS: $checks checks"
