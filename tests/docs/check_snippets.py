"""Checks that every ```cpp block of the given Markdown files appears, line for
line (ignoring indentation and blank lines), in one of the given source files,
so the docs never show code that the build does not compile.

Usage: check_snippets.py --docs a.md b.md --sources x.cpp y.cpp
"""

import argparse
import re
import sys


def normalized(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def contains(haystack, needle):
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", nargs="+", required=True)
    parser.add_argument("--sources", nargs="+", required=True)
    args = parser.parse_args()

    sources = [normalized(open(path, encoding="utf-8").read()) for path in args.sources]
    checked = failed = 0
    for doc in args.docs:
        text = open(doc, encoding="utf-8").read()
        for match in re.finditer(r"```cpp\n(.*?)```", text, re.S):
            block = normalized(match.group(1))
            checked += 1
            if not any(contains(source, block) for source in sources):
                failed += 1
                line = text[:match.start()].count("\n") + 1
                print(f"{doc}:{line}: this cpp block is not in any of {args.sources}:")
                print("    " + "\n    ".join(block))
    print(f"{checked - failed} passed, {failed} failed")
    return 1 if failed or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
