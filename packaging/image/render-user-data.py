#!/usr/bin/python3
"""Fills the cloud-init example with the real provisioning script: replaces the placeholder body of
/usr/local/sbin/trailwatch-provision.sh in cloud-init-user-data.yaml with provision.sh, indented.

usage: render-user-data.py [EXAMPLE] > user-data.yaml
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
example = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "cloud-init-user-data.yaml")
lines = open(example).read().splitlines(keepends=True)
script = open(os.path.join(here, "provision.sh")).read()
start = next(i for i, l in enumerate(lines) if l.strip() == "#!/bin/bash")
end = next(i for i in range(start, len(lines)) if lines[i].strip() == "exit 1") + 1
indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
body = "".join(indent + l if l.strip() else "\n" for l in script.splitlines(keepends=True))
sys.stdout.write("".join(lines[:start]) + body + "".join(lines[end:]))
