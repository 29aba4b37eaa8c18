#!/bin/sh
# Generates the man pages with pandoc: trailwatch(8) from docs/trailwatch.8.md and trailwatch.yaml(5)
# from docs/configuration.md (its headings shifted under a NAME/SYNOPSIS preamble).
#   sh packaging/make-man.sh OUTDIR VERSION     (run from the source root; debian/rules calls it)
set -eu
out=$1 version=$2
mkdir -p "$out"

sed "s/@VERSION@/$version/" docs/trailwatch.8.md | pandoc -s -f markdown -t man --lua-filter=packaging/man-tables.lua -o "$out/trailwatch.8"

{
  cat <<EOT
---
title: TRAILWATCH.YAML
section: 5
header: File Formats
footer: trailwatch $version
---

# NAME

trailwatch.yaml - configuration file of trailwatch

# SYNOPSIS

*/etc/trailwatch/trailwatch.yaml*

# DESCRIPTION

EOT
  # "# Configuration" is the page title; each "## X" becomes a section, "### X" a subsection.
  sed -e '1{/^# /d}' -e 's/^## /# /' -e 's/^### /## /' -e 's/^#### /### /' docs/configuration.md
  printf '\n# SEE ALSO\n\n**trailwatch**(8)\n'
} | pandoc -s -f markdown -t man --lua-filter=packaging/man-tables.lua -o "$out/trailwatch.yaml.5"
