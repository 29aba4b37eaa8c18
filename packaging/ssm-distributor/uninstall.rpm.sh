#!/bin/bash
# SSM Distributor uninstall script (rpm platforms): removes trailwatch.
set -euo pipefail
if command -v dnf >/dev/null; then dnf remove -y trailwatch; else yum remove -y trailwatch; fi
