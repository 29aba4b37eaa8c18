#!/usr/bin/python3
"""Checks an EC2 Image Builder component document (AWSTOE, schemaVersion 1.0) against its documented
shape: name/description/schemaVersion, optional parameters (each one key -> {type: string, default?,
description?}), phases (build/validate/test) with steps {name, action, inputs}, known action names,
ExecuteBash inputs.commands a list of strings, S3Download inputs a list of {source, destination},
unique step names (a-z A-Z 0-9 _ -), and {{ Param }} references to declared parameters only.

usage: check_imagebuilder.py FILE
"""
import re
import sys

import yaml

ACTIONS = {"ExecuteBash", "ExecuteBinary", "ExecuteDocument", "ExecutePowerShell", "S3Download", "S3Upload",
           "WebDownload", "CreateFile", "CreateFolder", "DeleteFile", "DeleteFolder", "MoveFile", "CopyFile",
           "SetFileOwner", "SetFolderOwner", "SetFilePermissions", "SetFolderPermissions", "Reboot",
           "UpdateOS", "Assert", "InstallMSI", "UninstallMSI", "ListFiles", "ReadFile", "AppendFile",
           "SetRegistry", "CopyFolder", "MoveFolder"}
PHASES = {"build", "validate", "test"}


def check(path):
    errors = []
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict):
        return ["not a YAML mapping"]
    for key in ("name", "schemaVersion", "phases"):
        if key not in doc:
            errors.append("missing %s" % key)
    if str(doc.get("schemaVersion")) != "1.0":
        errors.append("schemaVersion must be 1.0, got %r" % doc.get("schemaVersion"))
    unknown = set(doc) - {"name", "description", "schemaVersion", "parameters", "phases", "constants"}
    if unknown:
        errors.append("unknown top-level keys %s" % sorted(unknown))
    params = set()
    for p in doc.get("parameters") or []:
        if not isinstance(p, dict) or len(p) != 1:
            errors.append("parameter %r: one name -> settings" % (p,))
            continue
        (name, spec), = p.items()
        params.add(name)
        if not isinstance(spec, dict) or spec.get("type") != "string":
            errors.append("parameter %s: type: string required" % name)
        elif set(spec) - {"type", "default", "description"}:
            errors.append("parameter %s: unknown keys %s" % (name, sorted(set(spec) - {"type", "default",
                                                                                         "description"})))
    seen_phases = set()
    for phase in doc.get("phases") or []:
        pname = phase.get("name")
        if pname not in PHASES:
            errors.append("phase %r: must be one of %s" % (pname, sorted(PHASES)))
        if pname in seen_phases:
            errors.append("phase %s twice" % pname)
        seen_phases.add(pname)
        steps = phase.get("steps")
        if not isinstance(steps, list) or not steps:
            errors.append("phase %s: steps list required" % pname)
            continue
        names = set()
        for step in steps:
            sname = step.get("name")
            where = "%s/%s" % (pname, sname)
            if not isinstance(sname, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", sname):
                errors.append("%s: step name must be 1..128 of A-Z a-z 0-9 _ -" % where)
            if sname in names:
                errors.append("%s: duplicate step name" % where)
            names.add(sname)
            action = step.get("action")
            if action not in ACTIONS:
                errors.append("%s: unknown action %r" % (where, action))
            inputs = step.get("inputs")
            if action == "ExecuteBash":
                cmds = (inputs or {}).get("commands") if isinstance(inputs, dict) else None
                if not isinstance(cmds, list) or not cmds or not all(isinstance(c, str) for c in cmds):
                    errors.append("%s: ExecuteBash needs inputs.commands, a list of strings" % where)
            if action == "S3Download":
                if not isinstance(inputs, list) or not all(isinstance(i, dict) and {"source", "destination"} <=
                                                           set(i) for i in inputs):
                    errors.append("%s: S3Download needs inputs, a list of {source, destination}" % where)
    if "build" not in seen_phases:
        errors.append("no build phase")
    with open(path) as f:
        for ref in re.findall(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}", f.read()):
            if ref not in params and not ref.startswith(("build.", "validate.", "test.")):
                errors.append("{{ %s }} is not a declared parameter" % ref)
    return errors


if __name__ == "__main__":
    errs = check(sys.argv[1])
    for e in errs:
        print("check_imagebuilder: %s" % e)
    if not errs:
        print("check_imagebuilder: %s valid" % sys.argv[1])
    sys.exit(1 if errs else 0)
