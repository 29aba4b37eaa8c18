#!/bin/bash
# SSM Distributor install script (rpm platforms): installs the trailwatch .rpm shipped in this archive.
set -euo pipefail
cd "$(dirname "$0")"
if command -v dnf >/dev/null; then dnf install -y ./trailwatch-*.rpm; else yum install -y ./trailwatch-*.rpm; fi
systemctl enable --now trailwatch.service || true
