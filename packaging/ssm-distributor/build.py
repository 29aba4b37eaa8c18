#!/usr/bin/python3
"""Builds the AWS Systems Manager Distributor package for trailwatch from the .deb and .rpm files of
packaging/build-packages.sh: one zip per package format and architecture (the package plus
install.sh / uninstall.sh at the archive root) and manifest.json in the documented Distributor format
(schemaVersion 2.0: packages -> platform -> platform version -> architecture -> file; files -> name ->
checksums.sha256).

usage: build.py [--in DIR] [--out DIR] [--publisher NAME]
  --in   where to look for trailwatch_<v>_<amd64|arm64>.deb and trailwatch-<v>.<x86_64|aarch64>.rpm
         (searched recursively; default: <repo>/out)
  --out  default: <repo>/out/ssm-distributor
Then upload the directory to S3 and `aws ssm create-document --document-type Package
--attachments Key=SourceUrl,Values=s3://bucket/prefix --content file://manifest.json --name trailwatch`.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Distributor architecture names for the package architectures.
DEB_ARCH = {"amd64": "x86_64", "arm64": "arm64"}
RPM_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}
# Platform names as AWS-ConfigureAWSPackage reports them; "_any" version = every release.
DEB_PLATFORMS = ["debian", "ubuntu"]
RPM_PLATFORMS = ["amazon", "redhat", "centos", "oracle", "suse"]


def find_packages(root):
    debs, rpms = {}, {}
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("ssm-distributor", "vm")]
        for f in files:
            m = re.fullmatch(r"trailwatch_([^_]+)_(amd64|arm64)\.deb", f)
            if m:
                # Upstream version: no epoch (escaped as %3a in file names), no Debian revision.
                upstream = re.sub(r"^\d+(%3a|:)", "", m.group(1)).rsplit("-", 1)[0]
                debs.setdefault(DEB_ARCH[m.group(2)], []).append((upstream, os.path.join(dirpath, f)))
            m = re.fullmatch(r"trailwatch-([^-]+)-([^.]+(?:\.[^.]+)*)\.(x86_64|aarch64)\.rpm", f)
            if m:
                rpms.setdefault(RPM_ARCH[m.group(3)], []).append((m.group(1), os.path.join(dirpath, f)))
    # The newest file of each architecture (by modification time).
    pick = lambda d: {a: max(v, key=lambda x: os.path.getmtime(x[1])) for a, v in d.items()}  # noqa: E731
    return pick(debs), pick(rpms)


def make_zip(path, package, kind):
    # Fixed timestamps and modes: the same inputs give the same archive (and checksum).
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, src, mode in ((os.path.basename(package), package, 0o644),
                                ("install.sh", os.path.join(HERE, "install.%s.sh" % kind), 0o755),
                                ("uninstall.sh", os.path.join(HERE, "uninstall.%s.sh" % kind), 0o755)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(src, "rb") as f:
                z.writestr(info, f.read())


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", default=os.path.join(REPO, "out"))
    ap.add_argument("--out", default=os.path.join(REPO, "out", "ssm-distributor"))
    ap.add_argument("--publisher", default="trailwatch")
    args = ap.parse_args()

    debs, rpms = find_packages(args.inp)
    if not debs and not rpms:
        print("ssm-distributor: no trailwatch .deb or .rpm under %s (run packaging/build-packages.sh)" % args.inp,
              file=sys.stderr)
        return 1
    versions = {v for v, _ in list(debs.values()) + list(rpms.values())}
    if len(versions) != 1:
        print("ssm-distributor: packages of different versions: %s" % sorted(versions), file=sys.stderr)
        return 1
    version = versions.pop()

    os.makedirs(args.out, exist_ok=True)
    manifest = {"schemaVersion": "2.0", "version": version, "publisher": args.publisher,
                "packages": {}, "files": {}}
    for kind, found, platforms in (("deb", debs, DEB_PLATFORMS), ("rpm", rpms, RPM_PLATFORMS)):
        for arch, (_, package) in sorted(found.items()):
            name = "trailwatch-%s-%s.zip" % (kind, arch)
            path = os.path.join(args.out, name)
            make_zip(path, package, kind)
            manifest["files"][name] = {"checksums": {"sha256": sha256(path)}}
            for platform in platforms:
                manifest["packages"].setdefault(platform, {}).setdefault("_any", {})[arch] = {"file": name}
            print("ssm-distributor: %s <- %s (%d bytes)" % (name, os.path.basename(package), os.path.getsize(path)))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print("ssm-distributor: %s/manifest.json, version %s, %d platforms" % (args.out, version,
                                                                       len(manifest["packages"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
