#!/usr/bin/env bash
# Formats every tracked C++ file as .clang-format says, with Debian 12's clang-format-14 (the
# one scripts/run-tests.sh checks with). clang-format 14 mangles C++20 concepts and
# requires-clauses, so scripts/clang_format_guard.py first puts `// clang-format off/on`
# around those (idempotent: a second run changes nothing).
#
#     scripts/format.sh            # format in place
#     scripts/format.sh --check    # only check, as CI does; non-zero if a file is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format-14 >/dev/null; then
    echo "clang-format-14 is missing. Install it with:  apt-get install clang-format-14" >&2
    exit 1
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "scripts/format.sh: not a git work tree; it formats the files git tracks" >&2
    exit 1
fi
files=()
while IFS= read -r -d '' f; do [ -f "$f" ] && files+=("$f"); done < <(git ls-files -z '*.hpp' '*.ipp' '*.cpp')
if [ "${1:-}" = --check ]; then
    if ! clang-format-14 --dry-run --Werror "${files[@]}"; then
        echo "==> the files above are not formatted: run scripts/format.sh" >&2
        exit 1
    fi
    exit 0
fi
/usr/bin/python3 scripts/clang_format_guard.py
clang-format-14 -i "${files[@]}"
