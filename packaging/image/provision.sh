#!/usr/bin/env bash
# Provisions trailwatch on a Debian/Ubuntu host or image root: installs the package, drops in the
# configuration, enables the service and, with --image, clears instance-specific state so that every
# instance launched from the image starts fresh. The same script runs from Packer, EC2 Image Builder,
# cloud-init and the local VM boot test (tests/vm/boot-test.sh, inside an mmdebstrap chroot).
#
# usage: provision.sh (--deb FILE | --apt-repo URL --apt-keyring FILE [--apt-suite S] [--apt-component C])
#                     [--config FILE | --config ssm:NAME] [--image] [--no-start]
#
#   --deb FILE          install this .deb (its dependencies come from the configured apt sources)
#   --apt-repo URL      add this apt repository (deb822 .sources file, Signed-By the keyring) and install
#   --apt-keyring FILE  the repository's public key (binary or armored OpenPGP)
#   --apt-suite S       default "stable"; --apt-component C default "main"
#   --config FILE       copy FILE to /etc/trailwatch/trailwatch.yaml (validated first)
#   --config ssm:NAME   the agent fetches its YAML from SSM Parameter Store: TRAILWATCH_CONFIG=ssm:NAME
#                       goes to /etc/default/trailwatch, which the unit reads
#   --image             bake mode: run `trailwatch prepare-image` and empty /etc/machine-id
#   --no-start          enable only; never start (implied in a chroot or when systemd is not running)
set -euo pipefail

deb="" repo="" keyring="" suite="stable" component="main" config="" image=0 start=1

die() { echo "provision: $*" >&2; exit 1; }
log() { echo "provision: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb="${2:?--deb needs a file}"; shift 2 ;;
    --apt-repo) repo="${2:?--apt-repo needs a URL}"; shift 2 ;;
    --apt-keyring) keyring="${2:?--apt-keyring needs a file}"; shift 2 ;;
    --apt-suite) suite="${2:?}"; shift 2 ;;
    --apt-component) component="${2:?}"; shift 2 ;;
    --config) config="${2:?--config needs a file or ssm:NAME}"; shift 2 ;;
    --image) image=1; shift ;;
    --no-start) start=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -n "$deb" ] || [ -n "$repo" ] || die "give --deb FILE or --apt-repo URL --apt-keyring FILE"
[ -z "$deb" ] || [ -z "$repo" ] || die "--deb and --apt-repo are exclusive"
[ -z "$repo" ] || [ -n "$keyring" ] || die "--apt-repo needs --apt-keyring"

# Start the service only on a running systemd (not in a chroot, a container build or an image build).
if [ "$start" -eq 1 ] && [ ! -d /run/systemd/system ]; then start=0; fi

export DEBIAN_FRONTEND=noninteractive

# 1. The package.
if [ -n "$deb" ]; then
  [ -f "$deb" ] || die "no such file: $deb"
  deb="$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"
  log "installing $deb"
  apt-get install -y -q --no-install-recommends "$deb"
else
  [ -f "$keyring" ] || die "no such keyring: $keyring"
  install -d -m 0755 /etc/apt/keyrings
  if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$keyring"; then
    install -m 0644 "$keyring" /etc/apt/keyrings/trailwatch.asc; kr=/etc/apt/keyrings/trailwatch.asc
  else
    install -m 0644 "$keyring" /etc/apt/keyrings/trailwatch.gpg; kr=/etc/apt/keyrings/trailwatch.gpg
  fi
  cat > /etc/apt/sources.list.d/trailwatch.sources <<SOURCES
Types: deb
URIs: $repo
Suites: $suite
Components: $component
Signed-By: $kr
SOURCES
  log "installing trailwatch from $repo ($suite/$component)"
  apt-get update -q
  apt-get install -y -q --no-install-recommends trailwatch
fi
command -v trailwatch >/dev/null || die "trailwatch is not on PATH after the install"

# 2. The configuration. The unit runs `trailwatch run --config ${TRAILWATCH_CONFIG}` with a default of
#    /etc/trailwatch/trailwatch.yaml; /etc/default/trailwatch overrides it.
case "$config" in
  "") log "keeping the packaged /etc/trailwatch/trailwatch.yaml" ;;
  ssm:?*)
    log "configuration from SSM parameter ${config#ssm:}"
    printf '# Written by provision.sh: the agent fetches its configuration from SSM Parameter Store.\nTRAILWATCH_CONFIG=%s\n' \
      "$config" > /etc/default/trailwatch
    chmod 0644 /etc/default/trailwatch ;;
  *)
    [ -f "$config" ] || die "no such config file: $config"
    trailwatch validate --config "$config" >/dev/null || die "$config does not validate"
    install -d -m 0755 /etc/trailwatch
    install -m 0640 "$config" /etc/trailwatch/trailwatch.yaml
    log "configuration installed from $config"
    # A file config means the default path; drop a stale ssm: override from an earlier run.
    if [ -f /etc/default/trailwatch ] && grep -q '^TRAILWATCH_CONFIG=ssm:' /etc/default/trailwatch; then
      rm -f /etc/default/trailwatch
    fi ;;
esac

# 3. The service.
systemctl enable trailwatch.service
if [ "$start" -eq 1 ] && [ "$image" -eq 0 ]; then
  systemctl restart trailwatch.service
  log "trailwatch started"
fi

# 4. Bake mode: nothing instance-specific stays in the image.
if [ "$image" -eq 1 ]; then
  if [ "$start" -eq 1 ]; then systemctl stop trailwatch.service || true; fi
  cfg_arg=/etc/trailwatch/trailwatch.yaml
  if [ -f /etc/default/trailwatch ]; then
    cfg_arg="$(. /etc/default/trailwatch; echo "${TRAILWATCH_CONFIG:-$cfg_arg}")"
  fi
  if trailwatch prepare-image --help >/dev/null 2>&1; then
    log "trailwatch prepare-image"
    trailwatch prepare-image --config "$cfg_arg"
  else
    log "WARNING: this trailwatch has no prepare-image; clearing its state directories by hand"
    rm -rf /var/lib/trailwatch/* /var/lib/private/trailwatch/* 2>/dev/null || true
  fi
  # An empty machine-id makes systemd generate a new one at the first boot of each instance.
  if [ -s /etc/machine-id ]; then : > /etc/machine-id; log "emptied /etc/machine-id"; fi
  if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then rm -f /var/lib/dbus/machine-id; fi
fi
log "done"
