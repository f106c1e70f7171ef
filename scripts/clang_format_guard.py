#!/usr/bin/python3
"""Puts `// clang-format off` / `// clang-format on` around the code clang-format 14 mangles.

Run from the repository root (scripts/format.sh does): /usr/bin/python3 scripts/clang_format_guard.py [--dry-run] [files...]
(default: every tracked *.hpp, *.ipp, *.cpp, from `git ls-files`). Idempotent: code already
inside a guarded region is left alone, so a second run changes nothing.

clang-format 14 (Debian 12's, the one CI installs) does not understand C++20 concepts and
requires-clauses/expressions well. It guards, by pattern (not by line number):
  - every concept definition (template head through the `;`);
  - every requires-clause (template head or declarator through the clause's last line);
  - every requires-expression outside those that has a parameter list, a nested `{` (a
    compound requirement) or more than one line (the whole statement holding it);
  - an immediately invoked lambda with a template parameter list (`[&]<...>(...) {...}(...)`:
    14 moves the call to a line of its own);
  - a variable template whose initializer has `x && name<...>` (14 reads `x&& name<...>` as a declaration);
  - a statement with two string literals side by side on one line ("\\x02" "B": 14 splits them);
  - a statement made of macro calls without `;` (EE_BENCH_CASE(1) EE_BENCH_CASE(2) ...);
  - a declaration whose attribute spans lines ([[deprecated("..." "...")]]: 14 joins the declaration to it);
  - a run of lines with trailing comments where one goes past 120 columns (comments are not
    reflowed, so 14 would break the code instead: `x =\n    0; ///< ...`);
  - source lines that a Markdown ```cpp block quotes (tests/docs/check_snippets.py checks the
    docs against the sources line for line) when formatting would change them (needs clang-format-14).
tests/compile_fail needs nothing special: its checks match messages by regex, not line numbers.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

OFF = "// clang-format off"
ON = "// clang-format on"
GUARD = re.compile(r"^\s*(//\s*clang-format\s+(off|on)\b|/\*\s*clang-format\s+(off|on)\s*\*/)")

TOKEN = re.compile(
    r"""
    (?P<raw>R"(?P<delim>[^()\\ ]{0,16})\((?:.|\n)*?\)(?P=delim)")
  | (?P<str>(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
  | (?P<chr>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])*')
  | (?P<lcom>//[^\n]*)
  | (?P<bcom>/\*(?:.|\n)*?\*/)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<num>\.?\d(?:[\w.']|[eEpP][+-])*)
  | (?P<op>->|::|&&|\|\||<=|>=|==|!=|\.\.\.|[^\s\w])
  | (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+|\\\n)
    """,
    re.VERBOSE,
)


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return f"{self.text}@{self.line}"


def tokenize(text):
    """Code tokens with their 0-based line; comments and preprocessor lines are dropped."""
    tokens = []
    line = 0
    at_line_start = True
    in_pp = False
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            pos += 1
            continue
        kind = m.lastgroup if m.lastgroup != "delim" else "raw"
        if m.group("raw") is not None:
            kind = "str"
        elif m.group("str") is not None:
            kind = "str"
        piece = m.group(0)
        if kind == "nl":
            line += 1
            at_line_start = True
            in_pp = False
        elif kind == "ws":
            line += piece.count("\n")
        elif kind in ("lcom", "bcom"):
            line += piece.count("\n")
        else:
            if at_line_start and piece == "#":
                in_pp = True
            at_line_start = False
            if not in_pp:
                tokens.append(Tok("str" if kind == "str" else kind, piece, line))
            line += piece.count("\n")
        pos = m.end()
    return tokens


OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {")", "]", "}"}


def match_forward(tokens, i):
    """Index of the bracket closing tokens[i]."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j].text
        if t in OPEN:
            depth += 1
        elif t in CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def skip_angle(tokens, i):
    """tokens[i] is '<' of a template parameter list: index of its '>'."""
    depth = 0
    j = i
    while j < len(tokens):
        t = tokens[j].text
        if t == "<":
            depth += 1
        elif t == ">":
            depth -= 1
            if depth == 0:
                return j
        elif t == ">>":
            depth -= 2
            if depth <= 0:
                return j
        elif t in OPEN:
            j = match_forward(tokens, j)  # a bracketed argument may hold '<' and '>' of its own
        j += 1
    return len(tokens) - 1


ACCESS = {"public", "private", "protected"}


BLOCK_AFTER = {")", "else", "do", "try", "const", "noexcept", "override", "final", "mutable", ";", "{", "}"}
TYPE_KEYS = {"class", "struct", "union", "enum", "namespace", "extern"}


def match_backward(tokens, j):
    """Index of the bracket opening tokens[j] (a closer)."""
    depth = 0
    while j >= 0:
        t = tokens[j].text
        if t in CLOSE:
            depth += 1
        elif t in OPEN:
            depth -= 1
            if depth == 0:
                return j
        j -= 1
    return 0


def opens_block(tokens, j):
    """tokens[j] is '{': does it open a block (body, class, namespace) rather than a braced init?"""
    if j == 0 or tokens[j - 1].text in BLOCK_AFTER or tokens[j - 1].line != tokens[j].line:
        return True
    k = j - 1
    while k >= 0 and tokens[k].text not in (";", "{", "}"):
        if tokens[k].text in TYPE_KEYS:
            return True
        if tokens[k].text in CLOSE:
            k = match_backward(tokens, k)
        k -= 1
    return False


def statement_start(tokens, i):
    """First token of the statement or declaration holding tokens[i]."""
    j = i - 1
    while j >= 0:
        t = tokens[j].text
        if t in (")", "]"):
            j = match_backward(tokens, j) - 1
            continue
        if t == "}":
            after = tokens[j + 1].text if j + 1 < len(tokens) else ""
            if after in (";", ",", ")", "(", "]", "}", ".", "->", "&&", "||", "?", ":") and j + 1 != i:
                j = match_backward(tokens, j) - 1
                continue
            return j + 1
        if t == ";":
            return j + 1
        if t == "{":
            if opens_block(tokens, j):
                return j + 1
        elif t == ":" and j > 0 and tokens[j - 1].text in ACCESS:
            return j + 1
        j -= 1
    return 0


def requires_expression_end(tokens, i):
    """tokens[i] is `requires` starting an expression: index of its body's '}'."""
    j = i + 1
    if j < len(tokens) and tokens[j].text == "(":
        j = match_forward(tokens, j) + 1
    if j < len(tokens) and tokens[j].text == "{":
        return match_forward(tokens, j)
    return None


def statement_end(tokens, start, i):
    """Last token of the statement that starts at tokens[start] and holds tokens[i]."""
    depth = 0
    j = start
    while j < len(tokens):
        t = tokens[j].text
        if t == "requires" and j >= i:
            end = requires_expression_end(tokens, j)
            if end is not None:
                j = end + 1
                continue
        if depth == 0 and t == ";":
            if j + 1 < len(tokens) and tokens[j + 1].text == "else":
                j += 2  # if (...) a; else b;: one statement
                continue
            return j
        if depth == 0 and t == "{" and j > i and j > start and opens_block(tokens, j):
            return j
        if t in OPEN:
            depth += 1
        elif t in CLOSE:
            depth -= 1
            if depth < 0:
                return j - 1  # the enclosing block ends: the statement had no ';'
        j += 1
    return len(tokens) - 1


def expression_needs_guard(tokens, i, end):
    if tokens[i + 1].text == "(":
        return True
    if tokens[i].line != tokens[end].line:
        return True
    body_start = i + 1
    return any(t.text == "{" for t in tokens[body_start + 1:end])


def is_lambda_introducer_end(tokens, j):
    """tokens[j] is ']' closing a lambda introducer."""
    if tokens[j].text != "]":
        return False
    depth = 0
    k = j
    while k >= 0:
        t = tokens[k].text
        if t == "]":
            depth += 1
        elif t == "[":
            depth -= 1
            if depth == 0:
                break
        k -= 1
    if k <= 0:
        return k == 0
    before = tokens[k - 1]
    return before.text in ("(", "=", ",", "{", ";", "return", "}", ":", "?", "&&", "||") or before.kind != "id"


def constructs(tokens):
    """(first token, last token, why) for each construct to guard."""
    found = []
    covered_until = -1
    for i, tok in enumerate(tokens):
        if i <= covered_until:
            continue
        t = tok.text
        region = None
        if t == "concept" and i + 2 < len(tokens) and tokens[i + 1].kind == "id" and tokens[i + 2].text == "=":
            start = statement_start(tokens, i)
            region = (start, statement_end(tokens, start, i), "concept")
        elif t == "requires":
            end = requires_expression_end(tokens, i)
            prev = tokens[i - 1].text if i else ""
            if end is None or prev in (">", ")", "const", "noexcept", "override", "final", "&", "&&", ">>"):
                if prev == "requires":
                    continue
                start = statement_start(tokens, i)
                end = statement_end(tokens, start, i)
                if tokens[end].text == "{" and tokens[end - 1].line != tokens[end].line:
                    end -= 1  # a body's brace on a line of its own stays outside
                region = (start, end, "requires-clause")
            elif expression_needs_guard(tokens, i, end):
                start = statement_start(tokens, i)
                region = (start, statement_end(tokens, start, i), "requires-expression")
        elif t == "]" and i + 1 < len(tokens) and tokens[i + 1].text == "<" and is_lambda_introducer_end(tokens, i):
            j = skip_angle(tokens, i + 1) + 1
            while j < len(tokens) and tokens[j].text not in ("{", ";"):
                j = match_forward(tokens, j) + 1 if tokens[j].text in OPEN else j + 1
            if j < len(tokens) and tokens[j].text == "{":
                close = match_forward(tokens, j)
                if close + 1 < len(tokens) and tokens[close + 1].text == "(":
                    start = statement_start(tokens, i)
                    region = (start, statement_end(tokens, start, close + 1), "template lambda called in place")
        elif t == "template" and i + 1 < len(tokens) and tokens[i + 1].text == "<" and (
            i == 0 or tokens[i - 1].text in (";", "{", "}", ":", ">")
        ):
            j = skip_angle(tokens, i + 1) + 1
            k = j
            head = []
            while k < len(tokens) and tokens[k].text not in ("=", ";", "{", "(", "requires", "concept"):
                head.append(tokens[k].text)
                k += 1
            if k < len(tokens) and tokens[k].text == "=" and "constexpr" in head:
                end = statement_end(tokens, i, k)
                depth = 0
                risky = False
                for m in range(k + 1, end):
                    if tokens[m].text in OPEN:
                        depth += 1
                    elif tokens[m].text in CLOSE:
                        depth -= 1
                    elif depth == 0 and tokens[m].text == "&&" and (
                        tokens[m - 1].kind == "id" or tokens[m - 1].text == ">"
                    ):
                        # x && name<...>: 14 reads `x&& name<...>` as a declaration.
                        q = m + 1
                        while q + 1 < end and tokens[q].kind == "id" and tokens[q + 1].text == "::":
                            q += 2
                        if q + 1 < end and tokens[q].kind == "id" and tokens[q + 1].text == "<":
                            risky = True
                if risky:
                    region = (i, end, "variable template with &&")
        elif tok.kind == "str" and i + 1 < len(tokens) and tokens[i + 1].kind == "str" and tokens[i + 1].line == tok.line:
            start = statement_start(tokens, i)
            region = (start, statement_end(tokens, start, i), "adjacent string literals")
        elif (
            tok.kind == "id"
            and re.fullmatch(r"[A-Z][A-Z0-9_]{2,}", t)
            and i + 1 < len(tokens)
            and tokens[i + 1].text == "("
        ):
            close = match_forward(tokens, i + 1)
            if close + 1 < len(tokens) and tokens[close + 1].kind == "id" and tokens[close + 1].text not in (
                "const", "noexcept", "override", "final", "requires", "try",
            ):
                start = statement_start(tokens, i)
                region = (start, statement_end(tokens, start, i), "macro calls without ';'")
        elif t == "[" and i + 1 < len(tokens) and tokens[i + 1].text == "[" and statement_start(tokens, i) == i:
            close = match_forward(tokens, i)
            if tokens[close].line != tok.line:
                # [[deprecated("..." "...")]] over several lines: 14 puts the declaration after it.
                end = statement_end(tokens, i, close)
                if tokens[end].text == "{" and tokens[end - 1].line != tokens[end].line:
                    end -= 1
                region = (i, end, "attribute over several lines")
        if region:
            found.append(region)
            covered_until = max(covered_until, region[1])
    return found


def guarded_lines(lines):
    """Set of line indexes inside existing off/on regions (guard lines included)."""
    inside = set()
    state_off = False
    for n, line in enumerate(lines):
        m = GUARD.match(line)
        if m:
            word = m.group(2) or m.group(3)
            if word == "off":
                state_off = True
            inside.add(n)
            if word == "on":
                state_off = False
            continue
        if state_off:
            inside.add(n)
    return inside


def indent_of(line):
    return line[: len(line) - len(line.lstrip())]


def apply_regions(lines, regions):
    """Inserts guards around the line ranges (first, last); returns the new lines."""
    inside = guarded_lines(lines)
    wanted = sorted({(a, b) for a, b in regions if not any(n in inside for n in range(a, b + 1))})
    merged = []
    for a, b in wanted:
        if merged and a <= merged[-1][1] + 2:  # one line between: one region
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    for a, b in reversed(merged):
        pad = indent_of(lines[a])
        lines.insert(b + 1, pad + ON)
        lines.insert(a, pad + OFF)
    return lines, len(merged)


COLUMN_LIMIT = 120
MAX_REGION = 100  # a longer region means a pattern went wrong: warn instead
TRAILING_COMMENT = re.compile(r"^(?P<code>.*?\S)\s*//")


def long_trailing_comments(tokens, lines):
    """Statements with a trailing // comment that takes a line past the column limit: clang-format
    cannot break a comment (ReflowComments: false), so it breaks the code instead (`x =\n 0; ///< ...`)."""
    found = []
    last_on_line = {}
    for n, tok in enumerate(tokens):
        last_on_line[tok.line] = n
    for line, n in sorted(last_on_line.items()):
        text = lines[line]
        if len(text) <= COLUMN_LIMIT or tokens[n].kind == "str":
            continue
        m = TRAILING_COMMENT.match(text)
        if not m or '"' in text[m.end("code"):]:
            continue
        # The run of neighbouring lines with trailing comments: their comments are aligned together.
        first = last = line
        while first - 1 in last_on_line and has_trailing_comment(lines[first - 1]):
            first -= 1
        while last + 1 in last_on_line and has_trailing_comment(lines[last + 1]):
            last += 1
        a = min(n2 for n2, t in enumerate(tokens) if t.line == first)
        start = statement_start(tokens, a)
        end = statement_end(tokens, start, last_on_line[last])
        found.append((tokens[start].line, max(tokens[end].line, last), "long trailing comment"))
    return found


def has_trailing_comment(text):
    m = TRAILING_COMMENT.match(text)
    return bool(m) and '"' not in text[m.end("code"):] and not text.lstrip().startswith("//")


def construct_regions(text):
    tokens = tokenize(text)
    regions = [(tokens[a].line, tokens[b].line, why) for a, b, why in constructs(tokens)]
    return regions + long_trailing_comments(tokens, text.split("\n"))


# ---------------------------------------------------------------- docs snippets


def normalized(lines):
    return [(n, l.strip()) for n, l in enumerate(lines) if l.strip()]


def doc_blocks(md_files):
    blocks = []
    for path in md_files:
        try:
            text = open(path, encoding="utf-8").read()
        except OSError:
            continue
        for m in re.finditer(r"```cpp\n(.*?)```", text, re.S):
            block = [l.strip() for l in m.group(1).splitlines() if l.strip()]
            if block:
                blocks.append(block)
    return blocks


def find_block(norm, block):
    """(first line, last line) of each place @p block occurs in @p norm."""
    texts = [t for _, t in norm]
    n = len(block)
    return [(norm[i][0], norm[i + n - 1][0]) for i in range(len(texts) - n + 1) if texts[i:i + n] == block]


def clang_format(text, path, style_file):
    result = subprocess.run(
        ["clang-format-14", "--style=file", f"--assume-filename={path}"],
        input=text, capture_output=True, text=True, check=True, cwd=os.path.dirname(os.path.abspath(style_file)),
    )
    return result.stdout


# ---------------------------------------------------------------- main


def tracked(patterns):
    out = subprocess.run(["git", "ls-files", *patterns], capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if p and os.path.isfile(p)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", action="store_true", help="print what would be guarded, change nothing")
    parser.add_argument("--no-snippets", action="store_true", help="skip the docs-snippet protection")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    files = args.files or tracked(["*.hpp", "*.ipp", "*.cpp"])

    blocks = [] if args.no_snippets else doc_blocks(tracked(["*.md"]))
    can_format = shutil.which("clang-format-14") and os.path.exists(".clang-format")
    if blocks and not can_format:
        print("guard.py: clang-format-14 or ./.clang-format missing: docs snippets not protected", file=sys.stderr)
        blocks = []

    total = 0
    for path in files:
        text = open(path, encoding="utf-8").read()
        lines = text.split("\n")
        inside = guarded_lines(lines)
        regions = []
        for a, b, why in construct_regions(text):
            if any(n in inside for n in range(a, b + 1)):
                continue
            if b - a + 1 > MAX_REGION:
                print(f"guard.py: WARNING: {path}:{a + 1}-{b + 1}: {why} would guard {b - a + 1} lines; "
                      "left unguarded (look at what clang-format does there)", file=sys.stderr)
                continue
            regions.append((a, b))
            if args.dry_run:
                print(f"{path}:{a + 1}-{b + 1}: {why}")
        lines, count = apply_regions(lines, regions)
        # Docs snippets quoted from this file that formatting would change.
        if blocks:
            norm = normalized(lines)
            quoted = [(block, spans) for block in blocks for spans in [find_block(norm, block)] if spans]
            if quoted:
                formatted = clang_format("\n".join(lines), path, ".clang-format")
                fnorm = normalized(formatted.split("\n"))
                snippet_regions = []
                for block, spans in quoted:
                    if not find_block(fnorm, block):
                        snippet_regions.extend(spans)
                        if args.dry_run:
                            for a, b in spans:
                                print(f"{path}:{a + 1}-{b + 1}: quoted by a docs ```cpp block")
                lines, more = apply_regions(lines, snippet_regions)
                count += more
        if count:
            total += count
            if not args.dry_run:
                with open(path, "w", encoding="utf-8") as out:
                    out.write("\n".join(lines))
                print(f"guard.py: {path}: {count} guarded region(s) added")
    print(f"guard.py: {total} guarded region(s) added in {len(files)} files" + (" (dry run)" if args.dry_run else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
