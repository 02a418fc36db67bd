#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Checks that every error id used in src/ and include/ is documented in
docs/errors.md, and that the page documents no id the code no longer uses.

Usage: tools/check_messages.py [REPO_DIR]   (exit 1 and a list on mismatch)
"""
import pathlib
import re
import sys

repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
pattern = re.compile(r"GC-\d{4}")
used = {}
for path in list((repo / "src").rglob("*.cc")) + list((repo / "include").rglob("*.h")):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for found in pattern.findall(line):
            used.setdefault(found, f"{path.relative_to(repo)}:{number}")
documented = set(re.findall(r"^\| (GC-\d{4}) \|", (repo / "docs" / "errors.md").read_text(), re.M))
missing = sorted(set(used) - documented)
stale = sorted(documented - set(used))
for code in missing:
    print(f"{used[code]}: {code} is used but not documented in docs/errors.md")
for code in stale:
    print(f"docs/errors.md: {code} is documented but no longer used")
if missing or stale:
    sys.exit(1)
print(f"check_messages: {len(used)} error ids, all documented")
