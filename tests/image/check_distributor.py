#!/usr/bin/python3
"""Checks an SSM Distributor package directory (manifest.json + archives) against the documented
manifest format: schemaVersion "2.0", a version, packages {platform: {platform version: {arch: {file}}}}
with known platform and architecture names, files {name: {checksums: {sha256}}}; every referenced file
exists, every listed file is referenced, checksums match, each archive has install.sh and uninstall.sh
at its root (executable) and exactly one .deb or .rpm.

usage: check_distributor.py DIR           exit 0 = valid; errors are printed one per line
"""
import hashlib
import json
import os
import re
import sys
import zipfile

PLATFORMS = {"_any", "amazon", "centos", "debian", "opensuse", "opensuseleap", "oracle", "redhat", "suse",
             "ubuntu", "windows", "darwin"}
ARCHS = {"_any", "x86_64", "i386", "386", "arm64"}
VERSION = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


def check(d):
    errors = []
    try:
        with open(os.path.join(d, "manifest.json")) as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        return ["manifest.json: %s" % e]
    if m.get("schemaVersion") != "2.0":
        errors.append("schemaVersion must be \"2.0\", got %r" % m.get("schemaVersion"))
    if not isinstance(m.get("version"), str) or not VERSION.fullmatch(m["version"]):
        errors.append("version %r: 1..128 of A-Z a-z 0-9 _ . -" % m.get("version"))
    unknown = set(m) - {"schemaVersion", "version", "publisher", "packages", "files"}
    if unknown:
        errors.append("unknown top-level keys %s" % sorted(unknown))
    packages, files = m.get("packages"), m.get("files")
    if not isinstance(packages, dict) or not packages:
        return errors + ["packages: a non-empty object is required"]
    if not isinstance(files, dict) or not files:
        return errors + ["files: a non-empty object is required"]
    referenced = set()
    for platform, versions in packages.items():
        if platform not in PLATFORMS:
            errors.append("packages.%s: unknown platform" % platform)
        if not isinstance(versions, dict) or not versions:
            errors.append("packages.%s: platform versions object required" % platform)
            continue
        for pv, archs in versions.items():
            if not isinstance(archs, dict) or not archs:
                errors.append("packages.%s.%s: architectures object required" % (platform, pv))
                continue
            for arch, entry in archs.items():
                where = "packages.%s.%s.%s" % (platform, pv, arch)
                if arch not in ARCHS:
                    errors.append("%s: unknown architecture" % where)
                if not isinstance(entry, dict) or set(entry) != {"file"} or not isinstance(entry["file"], str):
                    errors.append("%s: must be {\"file\": NAME}" % where)
                    continue
                referenced.add(entry["file"])
                if entry["file"] not in files:
                    errors.append("%s: file %s is not listed in files" % (where, entry["file"]))
    for name, meta in files.items():
        path = os.path.join(d, name)
        sha = (meta or {}).get("checksums", {}).get("sha256") if isinstance(meta, dict) else None
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            errors.append("files.%s.checksums.sha256: 64 lower-case hex digits required" % name)
        if name not in referenced:
            errors.append("files.%s: not referenced by any package" % name)
        if not os.path.isfile(path):
            errors.append("files.%s: missing from %s" % (name, d))
            continue
        with open(path, "rb") as f:
            actual = hashlib.sha256(f.read()).hexdigest()
        if sha and actual != sha:
            errors.append("files.%s: sha256 %s, manifest says %s" % (name, actual, sha))
        try:
            with zipfile.ZipFile(path) as z:
                infos = {i.filename: i for i in z.infolist()}
        except zipfile.BadZipFile as e:
            errors.append("%s: %s" % (name, e))
            continue
        for script in ("install.sh", "uninstall.sh"):
            if script not in infos:
                errors.append("%s: no %s at the archive root" % (name, script))
            elif not (infos[script].external_attr >> 16) & 0o100:
                errors.append("%s: %s is not executable" % (name, script))
        pkgs = [n for n in infos if n.endswith((".deb", ".rpm")) and "/" not in n]
        if len(pkgs) != 1:
            errors.append("%s: expected one .deb or .rpm at the root, found %s" % (name, pkgs))
    return errors


if __name__ == "__main__":
    errs = check(sys.argv[1])
    for e in errs:
        print("check_distributor: %s" % e)
    if not errs:
        print("check_distributor: %s/manifest.json valid" % sys.argv[1])
    sys.exit(1 if errs else 0)
