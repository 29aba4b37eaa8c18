#!/bin/bash
# SSM Distributor install script (deb platforms): installs the trailwatch .deb shipped in this archive.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends ./trailwatch_*.deb
systemctl enable --now trailwatch.service || true
