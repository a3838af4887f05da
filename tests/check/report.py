#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads ocireg-check JSON reports and the README's compliance section.

  report.py ids REPORT.json              the check ids of a report, one a line, in order
  report.py status REPORT.json STATUS    the ids of the checks with STATUS (PASS, FAIL or SKIP)
  report.py cleanup-left REPORT.json     what the run's clean-up left behind, one a line
  report.py documented README REGISTRY   the ids the README's compliance notes give as failing
                                         for REGISTRY ("ocireg" or "distribution")
  report.py version README REGISTRY      the version the README's table gives for REGISTRY
  report.py render NAME=VERSION=REPORT.json...
                                         the compliance section's Markdown, one row per report
  report.py replace README SECTION.md    puts SECTION.md between the README's compliance markers

The README section lies between the lines "<!-- compliance:begin -->" and
"<!-- compliance:end -->". Its notes have one line per failed or skipped check:
"- **REGISTRY** `CHECK ID` fails: ..." or "- **REGISTRY** `CHECK ID` is skipped: ...".
"""

import json
import re
import sys

BEGIN = "<!-- compliance:begin -->"
END = "<!-- compliance:end -->"
NOTE = re.compile(r"^- \*\*(?P<registry>[^*]+)\*\* `(?P<id>[^`]+)` (?P<what>fails|is skipped):")
ROW = re.compile(r"^\| (?P<registry>[^|]+?) \| (?P<version>[^|]+?) \|")
CATEGORIES = [("pull", "Pull"), ("push", "Push"), ("discovery", "Content discovery"),
              ("management", "Content management")]
# Run-specific parts of a reason: digests, the random repository, the random tag suffixes.
# Upload locations differ per run too: absolute URLs name the port, sessions have ids and state.
VARIABLE = [(re.compile(r"https?://[^/ ]+"), ""),
            (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "UUID"),
            (re.compile(r"_state=[^ &)`]+"), "_state=…"),
            (re.compile(r"sha(256|512):[0-9a-f]{8,}"), r"sha\1:…"),
            (re.compile(r"ocireg-check/[0-9a-f]{8}"), "REPO"),
            (re.compile(r"-[0-9a-f]{8}(-[a-z0-9])?\b"), r"-RUN\1")]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def section(readme_path):
    with open(readme_path, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"{readme_path}: no compliance markers")
    return text[start + len(BEGIN):end]


def counts(report, category, levels):
    c = {"passed": 0, "failed": 0, "skipped": 0}
    for level in levels:
        for key in c:
            c[key] += report["summary"][category][level][key]
    return c


def cell(c):
    if sum(c.values()) == 0:
        return "-"
    text = f"{c['passed']} passed, {c['failed']} failed"
    return text + (f", {c['skipped']} skipped" if c["skipped"] else "")


def stable(text):
    for pattern, replacement in VARIABLE:
        text = pattern.sub(replacement, text)
    return text


def note(registry, check):
    problem = check["reason"]
    if check["status"] == "FAIL":
        # "expected 202, got 404: GET ... -> 404 ..." keeps the request and status, not the body.
        head, _, rest = problem.partition(": ")
        request = rest.split(" -> ")[0] if " -> " in rest else ""
        status = rest.split(" -> ")[1].split(" ")[0] if " -> " in rest else ""
        detail = head + (f" (`{request}` answered {status})" if request else "")
        return (f"- **{registry}** `{check['id']}` fails: {stable(detail)}. "
                f"Spec: \"{check['requirement']}\"")
    head = problem.split(": ")[0]
    return f"- **{registry}** `{check['id']}` is skipped: {stable(head)}."


def render(rows):
    lines = [
        "| Registry | Version | " + " | ".join(title for _, title in CATEGORIES) +
        " | Main branch and `_catalog` |",
        "| --- | --- | " + " | ".join("---" for _ in CATEGORIES) + " | --- |",
    ]
    notes = []
    for name, version, path in rows:
        report = load(path)
        cells = [cell(counts(report, category, ["v1.1"])) for category, _ in CATEGORIES]
        extra = {"passed": 0, "failed": 0, "skipped": 0}
        for category, _ in CATEGORIES:
            for key, value in counts(report, category, ["main", "extension"]).items():
                extra[key] += value
        lines.append(f"| {name} | {version} | " + " | ".join(cells) + f" | {cell(extra)} |")
        for check in report["checks"]:
            if check["status"] != "PASS":
                notes.append(note(name, check))
    out = "\n".join(lines) + "\n"
    if notes:
        out += "\nWhat did not pass, and the sentence of the spec it breaks:\n\n" + "\n".join(notes) + "\n"
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    command, args = argv[1], argv[2:]
    if command == "ids":
        print("\n".join(c["id"] for c in load(args[0])["checks"]))
    elif command == "status":
        print("\n".join(c["id"] for c in load(args[0])["checks"] if c["status"] == args[1]))
    elif command == "cleanup-left":
        print("\n".join(f"{c['what']}: {c['detail']}" for c in load(args[0])["cleanup"] if not c["ok"]))
    elif command == "documented":
        for line in section(args[0]).splitlines():
            m = NOTE.match(line)
            if m and m["registry"] == args[1] and m["what"] == "fails":
                print(m["id"])
    elif command == "version":
        for line in section(args[0]).splitlines():
            m = ROW.match(line)
            if m and m["registry"] == args[1]:
                print(m["version"])
    elif command == "render":
        rows = [arg.split("=", 2) for arg in args]
        sys.stdout.write(render(rows))
    elif command == "replace":
        with open(args[0], encoding="utf-8") as f:
            text = f.read()
        with open(args[1], encoding="utf-8") as f:
            body = f.read()
        start, end = text.find(BEGIN), text.find(END)
        if start < 0 or end < start:
            sys.exit(f"{args[0]}: no compliance markers")
        text = text[:start + len(BEGIN)] + "\n" + body + text[end:]
        with open(args[0], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
