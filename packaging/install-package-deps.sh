#!/usr/bin/env bash
# Installs what packaging/build-packages.sh and packaging/test-install.sh need, on top of
# packaging/install-build-deps.sh: Debian packaging tools, the rpm tools, repository tools, pandoc,
# mmdebstrap, the arm64 cross toolchain with the arm64 -dev libraries (multiarch), and qemu-user.
# Kept apart so the developer quick start stays light. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

native=(
  debhelper dpkg-dev devscripts lintian fakeroot pandoc
  rpm createrepo-c reprepro apt-utils gnupg
  mmdebstrap
  crossbuild-essential-arm64 qemu-user-static
)
arm64=(
  libboost-dev:arm64 libcurl4-openssl-dev:arm64 libssl-dev:arm64 zlib1g-dev:arm64
  libspdlog-dev:arm64 libfmt-dev:arm64 libyaml-cpp0.7:arm64
)
# libyaml-cpp-dev is not Multi-Arch: same in Debian 12, so its arm64 copy cannot sit beside the amd64 one
# (installing it removes libyaml-cpp-dev:amd64). build-packages.sh unpacks it into its own output
# (apt-get download + dpkg-deb -x) and points the toolchain file at it instead.

# The arm64 packages need arm64 as a dpkg foreign architecture (multiarch); added once.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { echo "install-package-deps: run as root to add the arm64 architecture" >&2; exit 1; }
  dpkg --add-architecture arm64
fi

# The install itself (what is missing, root check, one apt-get update) is install-build-deps.sh's.
bash "$here/install-build-deps.sh" "${native[@]}" "${arm64[@]}"
