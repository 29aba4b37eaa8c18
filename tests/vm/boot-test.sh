#!/usr/bin/env bash
# The real VM boot test: a Debian 12 disk image built with mmdebstrap from Debian's archive, provisioned
# by packaging/image/provision.sh (the same script Packer, Image Builder and cloud-init run), booted
# under qemu with a real kernel, systemd and auditd, and checked from outside against fakeaws.
#
# usage: bash tests/vm/boot-test.sh [--deb FILE] [--accel kvm|tcg|auto] [--keep]
#   --deb FILE   the package to install (default: the newest out/**/trailwatch_*_amd64.deb)
#   --accel      default auto: KVM if a quick probe boots a kernel, else TCG
#   --keep       keep the disk images and the unpacked root in out/vm afterwards
# Artefacts: out/vm (gitignored); the mmdebstrap tarball is cached in out/vm/cache.
# Environment: TW_VM_TIMEOUT_SCALE multiplies every wait (default 1).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$repo/out/vm"
deb="" accel=auto keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="$2"; shift 2 ;;
    --accel) accel="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "boot-test: unknown argument $1" >&2; exit 2 ;;
  esac
done

need() { command -v "$1" >/dev/null || { echo "boot-test: SKIP: $1 not installed (packaging/install-build-deps.sh)" >&2; exit 77; }; }
for t in mmdebstrap qemu-system-x86_64 mkfs.ext4 ssh ssh-keygen zstd; do need "$t"; done
[ "$(id -u)" -eq 0 ] || { echo "boot-test: SKIP: needs root (chroot, device nodes in the image tree)" >&2; exit 77; }

if [ -z "$deb" ]; then
  deb="$(find "$repo/out" -path "$out" -prune -o -name 'trailwatch_*_amd64.deb' -printf '%T@ %p\n' 2>/dev/null \
    | sort -n | tail -1 | cut -d' ' -f2-)"
fi
[ -n "$deb" ] && [ -f "$deb" ] || { echo "boot-test: no .deb (build it: packaging/build-packages.sh, or pass --deb)" >&2; exit 1; }
deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"

mkdir -p "$out/cache"
t0=$(date +%s)
stamp() { echo "boot-test: [$(( $(date +%s) - t0 ))s] $*"; }
declare -A timing
phase_start=$t0
phase_end() { local now; now=$(date +%s); timing[$1]=$((now - phase_start)); phase_start=$now; }

# 1. The base system, cached by its package list. No recommends (mmdebstrap's apt variant).
includes="linux-image-amd64,systemd-sysv,udev,auditd,openssh-server,passwd,libcurl4,libyaml-cpp0.7"
includes+=",libspdlog1.10,libfmt9,ca-certificates,iproute2,procps"
key="$(echo "bookworm $includes" | sha256sum | cut -c1-12)"
base="$out/cache/base-$key.tar.zst"
if [ ! -s "$base" ]; then
  stamp "mmdebstrap bookworm -> $base"
  mmdebstrap --variant=apt --include="$includes" bookworm "$base.tmp.tar.zst" http://deb.debian.org/debian \
    > "$out/mmdebstrap.log" 2>&1 || { tail -20 "$out/mmdebstrap.log"; exit 1; }
  mv "$base.tmp.tar.zst" "$base"
else
  stamp "cached base $base"
fi
phase_end base

# 2. Unpack, provision with the same script the image recipes use, and add what the test needs.
root="$out/root"
rm -rf "$root" && mkdir -p "$root"
tar --zstd -xpf "$base" -C "$root" --numeric-owner
[ -f "$out/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C tw-boot-test -f "$out/id_ed25519"

install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$out/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
echo tw-vm > "$root/etc/hostname"
cat > "$root/etc/systemd/network/10-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
# The watched execve of the test.
echo '-w /usr/bin/id -p x -k tw-exec' > "$root/etc/audit/rules.d/50-tw-boot-test.rules"
cp "$deb" "$root/tmp/"
cp "$repo/packaging/image/provision.sh" "$root/tmp/provision.sh"
cp "$here/vm-config.yaml" "$root/tmp/trailwatch.yaml"
stamp "provisioning $(basename "$deb") in the image root (provision.sh --image)"
unshare --mount --propagation private bash -euo pipefail -c '
  root="$1"; deb="$2"
  mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"; mount -t sysfs sys "$root/sys"
  chroot "$root" /usr/sbin/useradd -m -s /bin/bash tester
  chroot "$root" bash /tmp/provision.sh --deb "/tmp/$deb" --config /tmp/trailwatch.yaml --image
' _ "$root" "$(basename "$deb")" 2>&1 | tee "$out/provision.log"
rm -f "$root/tmp/"*.deb "$root/tmp/provision.sh" "$root/tmp/trailwatch.yaml"
kernel="$(ls "$root"/boot/vmlinuz-* | tail -1)"; initrd="$(ls "$root"/boot/initrd.img-* | tail -1)"
cp "$kernel" "$out/vmlinuz"; cp "$initrd" "$out/initrd.img"
phase_end provision

# 3. The disk image ("the AMI"): ext4 made from the tree, no loop mount.
rm -f "$out/image.ext4"
mkfs.ext4 -q -F -L root -d "$root" "$out/image.ext4" 2G
stamp "image $(du -h --apparent-size "$out/image.ext4" | cut -f1) ($(du -sh "$out/image.ext4" | cut -f1) used)"
[ "$keep" -eq 1 ] || rm -rf "$root"
phase_end image

# 4. Boot it and check from outside.
export TW_BUILD_SECONDS_BASE=${timing[base]} TW_BUILD_SECONDS_PROVISION=${timing[provision]} TW_BUILD_SECONDS_IMAGE=${timing[image]}
set +e
/usr/bin/python3 "$here/boot_check.py" --out "$out" --repo "$repo" --accel "$accel"
rc=$?
set -e
[ "$keep" -eq 1 ] || rm -f "$out/instance1.ext4"
stamp "total, rc=$rc"
exit $rc
