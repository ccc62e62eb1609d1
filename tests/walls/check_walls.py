#!/usr/bin/env python3
"""The walls between FerroHSM's parts (docs/DESIGN.md, "Parts and arrows").

Each folder under src/ is a part and one CMake library; a part may include the headers
of the parts its arrows name and of no other. This check reads every source and header
of every part and fails, naming file, line and arrow, on an include that crosses a wall;
it also fails when command-line parsing (CLI11) appears outside tools/.

Usage: check_walls.py SOURCE_DIR
"""
import os
import re
import sys

# part -> the parts it may use. tools/, tests/, bench/, demo/ and fuzz/ may use anything.
ARROWS = {
    "base": set(),
    "wire": {"base"},
    "store": {"base"},
    "audit": {"base"},
    "core": {"audit", "base"},
    "client": {"base"},
    "signer": {"client", "base"},
    "sidecar": {"wire", "base"},
    "pkcs11": {"core", "audit", "store", "backends", "sidecar", "wire", "base"},
    "backends": {"core", "audit", "client", "base"},
    "server": {"pkcs11", "core", "audit", "store", "backends", "wire", "base"},
}

# An include names a part by its first path element ("core/hsm.h") or, for the parts with
# public include folders, by <ferrohsm/client/…> and <ferrohsm/signer/…>.
QUOTED = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/')
ANGLED = re.compile(r'^\s*#\s*include\s+<ferrohsm/([a-z0-9_]+)/')
CLI11 = re.compile(r'^\s*#\s*include\s+[<"]CLI/')
SOURCE = re.compile(r"\.(cc|h|inc|cpp|hpp)$")


def part_of(root, path):
    rel = os.path.relpath(path, root).split(os.sep)
    return rel[1] if len(rel) > 2 and rel[0] == "src" else None


def main(root):
    problems = []
    for top in ("src",):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not SOURCE.search(name) or name.endswith("_test.cc"):
                    continue
                path = os.path.join(dirpath, name)
                part = part_of(root, path)
                if part is None:
                    continue
                if part not in ARROWS:
                    problems.append(f"{path}: the part '{part}' has no arrows in tests/walls/check_walls.py")
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        if CLI11.match(line):
                            problems.append(f"{os.path.relpath(path, root)}:{n}: command-line parsing belongs in tools/")
                        m = QUOTED.match(line) or ANGLED.match(line)
                        if not m:
                            continue
                        used = m.group(1)
                        if used == part or used not in ARROWS:
                            continue  # its own headers, or a third-party folder
                        if used not in ARROWS[part]:
                            problems.append(f"{os.path.relpath(path, root)}:{n}: {part} -> {used} crosses a wall "
                                            f"({part} may use: {', '.join(sorted(ARROWS[part])) or 'nothing of ours'})")
    for p in problems:
        print(p)
    print(f"walls: {len(problems)} crossing(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
