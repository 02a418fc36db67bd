#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks the module map of docs/architecture.md against the sources.

The map's table lists the library's modules in order; a module may include
only itself and modules above it (their public headers, or their private
src/<module>/*.h headers, which only the library itself sees). Also checked: every folder of src/ (but
cli/ and worker/, the programs) is in the table and has its rule; no public
header includes <hdf5.h> or a private header (src/...).

  tools/check_layers.py [REPO]        exit 0 when clean, 1 with one line per finding
  tools/check_layers.py --self-test   shows that each kind of finding is found
"""
import pathlib
import re
import sys

PROGRAMS = {"cli", "worker"}


def table_modules(doc: str) -> list[str]:
    section = doc.split("## Module map", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| module")]
    modules = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) != 4 or not cells[3]:
            raise SystemExit(f"docs/architecture.md: module map row without four cells or a rule: {row}")
        modules.append(cells[0])
    return modules


def findings_of(repo: pathlib.Path) -> list[str]:
    order = table_modules((repo / "docs/architecture.md").read_text())
    rank = {m: k for k, m in enumerate(order)}
    findings = []
    folders = {p.name for p in (repo / "src").iterdir() if p.is_dir()} - PROGRAMS
    for missing in sorted(folders - set(order)):
        findings.append(f"src/{missing}/: a module missing from the module map of docs/architecture.md")
    for extra in sorted(set(order) - folders):
        findings.append(f"docs/architecture.md: module map lists '{extra}', which has no folder in src/")
    include_re = re.compile(r'^\s*#\s*include\s+[<"]([^>"]+)[>"]', re.M)
    for module in order:
        files = list((repo / "src" / module).glob("*")) + list((repo / "include/gaincell" / module).glob("*.h"))
        for f in sorted(files):
            if f.suffix not in (".h", ".cc"):
                continue
            public = "include" in f.relative_to(repo).parts[:1]
            text = f.read_text()
            for m in include_re.finditer(text):
                target = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                where = f"{f.relative_to(repo)}:{line}"
                if public and target in ("hdf5.h", "hdf5_hl.h"):
                    findings.append(f"{where}: a public header includes <{target}>")
                parts = target.split("/")
                if parts[0] == "gaincell" and len(parts) > 2:
                    used = parts[1]
                elif len(parts) == 2 and (repo / "src" / target).exists():
                    if public:
                        findings.append(f"{where}: a public header includes the private header {target}")
                        continue
                    used = parts[0]  # a library-internal header of another module
                else:
                    continue
                if used not in rank:
                    findings.append(f"{where}: includes {target} of '{used}', which is not in the module map")
                elif rank[used] > rank[module]:
                    findings.append(f"{where}: module {module} includes {target}, but {used} sits below it in the module map")
    return findings


SELF_TEST_DOC = """# Architecture
## Module map
| module | headers | what it holds | its rule |
|---|---|---|---|
| core | `a.h` | a | rule a |
| sweep | `b.h` | b | rule b |
## Next
"""


def self_test() -> int:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        repo = pathlib.Path(tmp)
        files = {
            "docs/architecture.md": SELF_TEST_DOC,
            "src/core/a.cc": '#include "gaincell/sweep/b.h"\n',       # upward
            "src/sweep/b.cc": '#include "gaincell/core/a.h"\n#include "core/private.h"\n',  # fine
            "src/core/private.h": "",
            "src/extra/c.cc": "",                                       # not in the map
            "include/gaincell/core/a.h": "#include <hdf5.h>\n",        # HDF5 in public
            "include/gaincell/sweep/b.h": '#include "core/private.h"\n',  # private in public
        }
        for name, text in files.items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(text)
        got = findings_of(repo)
        expected = ["src/extra/: a module missing", "src/core/a.cc:1: module core includes gaincell/sweep/b.h",
                    "include/gaincell/core/a.h:1: a public header includes <hdf5.h>",
                    "include/gaincell/sweep/b.h:1: a public header includes the private header core/private.h"]
        missing = [e for e in expected if not any(g.startswith(e) for g in got)]
        if missing or len(got) != len(expected):
            print("self-test failed: expected", expected, "got", got)
            return 1
    print("self-test: all", len(expected), "kinds of finding found")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    findings = findings_of(repo)
    for line in findings:
        print(line)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
