#!/usr/bin/python3
"""Read an auditd log with libauparse (Debian's python3-audit, module `auparse`) and print one
JSON event per line in the shape of shared/testdata/audit/expected/*.jsonl:

  {"serial", "time": "sec.mmm", "node", "records": [{"type", "fields", "interpreted",
   "enriched"?, "duplicate_fields"?}]}

Settings: escape mode raw, end-of-event timeout 2 s. "fields" holds the raw tokens as auparse
returns them (quotes kept), first occurrence wins; later repeats of a name go to
"duplicate_fields" as [name, raw, interpreted]. "enriched" is not from auparse: it is the text
after the 0x1d separator, split at " NAME=". Values that are not valid UTF-8 are {"hex": ...}.

Usage: auparse_dump.py LOG [OUT]
"""
import json
import re
import sys

import auparse

GS = b"\x1d"
ENRICHED_SPLIT = re.compile(rb" (?=[A-Z0-9_-]+=)")


def text(value):
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": value.hex()}


def enriched_part(record_text):
    if record_text is None:
        return None
    raw = record_text.encode("utf-8", "surrogateescape") if isinstance(record_text, str) else record_text
    pos = raw.find(GS)
    if pos < 0:
        return None
    out = {}
    for item in ENRICHED_SPLIT.split(raw[pos + 1:].strip(b" \n")):
        if b"=" not in item:
            continue
        name, value = item.split(b"=", 1)
        out[text(name)] = text(value)
    return out


def dump_event(parser, lines):
    serial = None
    event = {}
    records = []
    parser.first_record()
    while True:
        ts = parser.get_timestamp()
        if serial is None:
            serial = ts.serial
            event = {"serial": ts.serial, "time": "%d.%03d" % (ts.sec, ts.milli), "node": ts.host}
        try:
            type_name = parser.get_type_name()
        except LookupError:  # numbers auparse has no name for
            type_name = "UNKNOWN[%d]" % parser.get_type()
        record = {"type": type_name, "fields": {}, "interpreted": {}}
        duplicates = []
        if parser.first_field():
            while True:
                name = parser.get_field_name()
                raw = text(parser.get_field_str())
                interp = text(parser.interpret_field())
                if name in ("type", "node") and parser_field_is_header(name, record):
                    pass
                elif name in record["fields"]:
                    duplicates.append([name, raw, interp])
                else:
                    record["fields"][name] = raw
                    record["interpreted"][name] = interp
                if not parser.next_field():
                    break
        # auparse cuts the record text at 0x1d: take the enriched part from the source line.
        line_no = parser.get_line_number()
        enriched = enriched_part(lines[line_no - 1] if 0 < line_no <= len(lines) else None)
        if enriched is not None:
            record["enriched"] = enriched
        if duplicates:
            record["duplicate_fields"] = duplicates
        records.append(record)
        if not parser.next_record():
            break
    event["records"] = records
    return event


def parser_field_is_header(name, record):
    # auparse lists "node" and "type" from the record header as fields; they are not body fields.
    return not record["fields"]


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = open(sys.argv[2], "w", encoding="utf-8") if len(sys.argv) > 2 else sys.stdout
    with open(sys.argv[1], "rb") as f:
        lines = f.read().split(b"\n")
    parser = auparse.AuParser(auparse.AUSOURCE_FILE, sys.argv[1])
    parser.set_escape_mode(auparse.AUPARSE_ESC_RAW)
    parser.set_eoe_timeout(2)
    while parser.parse_next_event():
        parser.first_record()
        if parser.get_timestamp() is None:  # a line auparse could not read (comment, garbage)
            continue
        out.write(json.dumps(dump_event(parser, lines), ensure_ascii=False, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
