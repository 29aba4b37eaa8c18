#!/bin/bash
# SSM Distributor uninstall script (deb platforms): removes trailwatch, keeping its configuration.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get remove -y -q trailwatch
