#!/usr/bin/env bash
# Offline validation of the image recipes and the SSM Distributor package:
#   provision.sh          bash -n, shellcheck (if installed), --help, argument errors
#   cloud-init user data  `cloud-init schema --config-file` (Debian's cloud-init)
#   Image Builder         YAML parse + the documented component shape (check_imagebuilder.py)
#   Packer                NOT validated: packer is not in Debian (only a bracket/quote balance check here)
#   SSM Distributor       build.py on stand-in packages, check_distributor.py, and a tampered copy must fail
# usage: check-recipes.sh [part...]   parts: provision cloud-init imagebuilder packer distributor (default all)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
img="$repo/packaging/image"
parts=("$@"); [ ${#parts[@]} -gt 0 ] || parts=(provision cloud-init imagebuilder packer distributor)
fail=0 skipped=0
ok() { echo "check-recipes: PASS $*"; }
bad() { echo "check-recipes: FAIL $*"; fail=1; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

for part in "${parts[@]}"; do
  case "$part" in
    provision)
      bash -n "$img/provision.sh" && ok "provision.sh: bash -n" || bad "provision.sh: bash -n"
      if command -v shellcheck >/dev/null; then
        shellcheck -S warning "$img/provision.sh" "$repo/tests/vm/boot-test.sh" && ok "shellcheck" || bad "shellcheck"
      fi
      bash "$img/provision.sh" --help | grep -q -- '--config ssm:NAME' && ok "provision.sh --help" || bad "provision.sh --help"
      if bash "$img/provision.sh" --bogus >/dev/null 2>&1; then bad "provision.sh accepted --bogus"; else ok "provision.sh rejects an unknown argument"; fi ;;
    cloud-init)
      if ! command -v cloud-init >/dev/null; then echo "check-recipes: SKIP cloud-init not installed"; skipped=1; continue; fi
      out="$(cloud-init schema --config-file "$img/cloud-init-user-data.yaml" 2>&1)" && ok "$out" || bad "$out"
      /usr/bin/python3 "$img/render-user-data.py" > "$tmp/user-data.yaml"
      out="$(cloud-init schema --config-file "$tmp/user-data.yaml" 2>&1)" && ok "rendered (provision.sh inlined): $out" || bad "rendered: $out"
      /usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); sys.exit(d["write_files"][0]["content"] != open(sys.argv[2]).read())' \
        "$tmp/user-data.yaml" "$img/provision.sh" && ok "rendered user data carries provision.sh byte for byte" || bad "rendered user data differs from provision.sh"
      printf '#cloud-config\nruncmd: 3\n' > "$tmp/bad.yaml"
      if cloud-init schema --config-file "$tmp/bad.yaml" >/dev/null 2>&1; then bad "cloud-init schema accepted a bad file"; else ok "cloud-init schema rejects a bad file"; fi ;;
    imagebuilder)
      /usr/bin/python3 "$here/check_imagebuilder.py" "$img/imagebuilder-component.yaml" && ok "Image Builder component" || bad "Image Builder component"
      sed 's/action: ExecuteBash/action: ExecuteBsh/' "$img/imagebuilder-component.yaml" > "$tmp/ib.yaml"
      if /usr/bin/python3 "$here/check_imagebuilder.py" "$tmp/ib.yaml" >/dev/null; then bad "a misspelt action passed"; else ok "a misspelt action is caught"; fi ;;
    packer)
      if command -v packer >/dev/null; then
        (cd "$img" && packer init . >/dev/null && packer validate -syntax-only trailwatch.pkr.hcl) && ok "packer validate" || bad "packer validate"
      else
        echo "check-recipes: NOT VALIDATED trailwatch.pkr.hcl: packer is not in Debian; only brackets and quotes are balanced-checked"
        /usr/bin/python3 - "$img/trailwatch.pkr.hcl" <<'PY' && ok "trailwatch.pkr.hcl brackets/quotes balanced" || bad "trailwatch.pkr.hcl brackets/quotes"
import sys
text = open(sys.argv[1]).read()
stack, in_str, i = [], False, 0
pairs = {"}": "{", "]": "[", ")": "("}
for lineno, line in enumerate(text.splitlines(), 1):
    j = 0
    while j < len(line):
        c = line[j]
        if in_str:
            if c == "\\": j += 1
            elif c == '"': in_str = False
        elif c == "#": break
        elif c == '"': in_str = True
        elif c in "{[(": stack.append((c, lineno))
        elif c in "}])":
            if not stack or stack.pop()[0] != pairs[c]: sys.exit("line %d: unbalanced %s" % (lineno, c))
        j += 1
    if in_str: sys.exit("line %d: unterminated string" % lineno)
if stack: sys.exit("unclosed %s from line %d" % stack[-1])
PY
      fi ;;
    distributor)
      # Stand-in packages with the real file names: build.py only wraps and checksums them.
      mkdir -p "$tmp/in"
      for f in trailwatch_0.1.0_amd64.deb trailwatch_0.1.0_arm64.deb trailwatch-0.1.0-1.x86_64.rpm trailwatch-0.1.0-1.aarch64.rpm; do
        echo "stand-in $f" > "$tmp/in/$f"
      done
      /usr/bin/python3 "$repo/packaging/ssm-distributor/build.py" --in "$tmp/in" --out "$tmp/dist" >/dev/null \
        && /usr/bin/python3 "$here/check_distributor.py" "$tmp/dist" && ok "Distributor manifest (stand-in packages)" || bad "Distributor manifest"
      cp -r "$tmp/dist" "$tmp/tampered" && echo x >> "$tmp/tampered/trailwatch-deb-x86_64.zip"
      if /usr/bin/python3 "$here/check_distributor.py" "$tmp/tampered" >/dev/null; then bad "a changed archive passed"; else ok "a changed archive is caught (sha256)"; fi
      if [ -f "$repo/out/ssm-distributor/manifest.json" ]; then
        /usr/bin/python3 "$here/check_distributor.py" "$repo/out/ssm-distributor" && ok "out/ssm-distributor (real packages)" || bad "out/ssm-distributor"
      fi ;;
    *) bad "unknown part $part" ;;
  esac
done
[ "$fail" -eq 0 ] || exit 1
exit 0
