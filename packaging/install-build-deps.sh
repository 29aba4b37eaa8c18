#!/usr/bin/env bash
# Installs everything trailwatch needs to build, test and benchmark, from Debian 12's archive.
# Idempotent: packages already present are skipped, and apt-get update runs only when needed.
# Arguments name more packages to ensure the same way (packaging/install-package-deps.sh passes its own).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-botocore awscli python3-audit
  procps
)

# --- image / service / VM boot test (issue 10, branch image): systemd-analyze, cloud-init schema,
# --- mmdebstrap + qemu + mkfs.ext4 -d + ssh for tests/vm/boot-test.sh, shellcheck for check-recipes.sh
packages+=(
  systemd cloud-init python3-yaml shellcheck
  mmdebstrap qemu-system-x86 e2fsprogs openssh-client zstd util-linux
)

packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-build-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-build-deps: missing ${missing[*]}; run as root (or with sudo)" >&2
  exit 1
fi

echo "install-build-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
