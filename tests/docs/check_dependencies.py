#!/usr/bin/env python3
"""docs/design.md tells the truth about what the headers need (test docs.dependencies).

For Boost.Hana it finds, from the #include lines, every public header that includes a
Hana header directly or through other event_engine headers, and checks that design.md's
Boost.Hana section names each of them, that the umbrella header event_engine.hpp is not
among them (the section says the core does not use Hana), and that no sentence of
design.md says the library does not depend on Boost. Exit status 1 with one line per
finding.
"""

import argparse
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)


def includes(header: Path, root: Path, seen: dict) -> set:
    """Every include target reachable from @p header through event_engine's own headers."""
    if header in seen:
        return seen[header]
    seen[header] = set()
    found = set()
    for target in INCLUDE.findall(header.read_text(encoding="utf-8")):
        found.add(target)
        inside = root / target
        if target.startswith("event_engine/") and inside.is_file():
            found |= includes(inside, root, seen)
    seen[header] = found
    return found


def section(text: str, heading_word: str) -> str:
    """The Markdown section whose heading contains @p heading_word, up to the next heading."""
    match = re.search(r"^(#+) [^\n]*" + re.escape(heading_word) + r"[^\n]*$", text, re.MULTILINE)
    if not match:
        return ""
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(r"^#{1,%d} " % level, rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--include-dir", required=True, type=Path)
    parser.add_argument("--design", required=True, type=Path)
    args = parser.parse_args()

    design = args.design.read_text(encoding="utf-8")
    problems = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(design.split())):
        if re.search(r"(does not|doesn't|never) (depend|use)s? (on )?Boost", sentence):
            problems.append(f"design.md says: '{sentence}'")

    seen: dict = {}
    public = sorted((args.include_dir / "event_engine").glob("*.hpp"))
    users = [h.name for h in public if any(t.startswith("boost/hana") for t in includes(h, args.include_dir, seen))]
    if not users:
        problems.append("no public header includes Boost.Hana: design.md's Boost.Hana section is out of date")
    hana = section(design, "Boost.Hana")
    if not hana:
        problems.append("design.md has no section whose heading names Boost.Hana")
    for name in users:
        if name == "event_engine.hpp":
            problems.append("the umbrella event_engine.hpp includes Boost.Hana, but design.md says the core does not")
        elif f"`{name}`" not in hana:
            problems.append(f"{name} includes Boost.Hana, but design.md's Boost.Hana section does not name it")

    for problem in problems:
        print(f"check_dependencies: {problem}")
    if not problems:
        print(f"check_dependencies: Boost.Hana is used by {', '.join(users)}, as design.md says")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
