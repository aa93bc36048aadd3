"""The YAML mistakes people actually make, found line by line, all at once, with the fix.

A YAML parser stops at its first error and words it for people who know YAML ("mapping
values are not allowed here", at the end of a long line). The traps French text falls
into are few and recognisable on a single line:

* a colon followed by a space inside unquoted text (French typography puts a space before
  ``:``, so ``title: Atelier : cuisine`` reads as a second key);
* an apostrophe inside single-quoted text (``'L'atelier'`` ends after ``L``);
* a double quote inside double-quoted text;
* a tab in the indentation (YAML indents with spaces only).

:func:`find_traps` reports each of them at the culprit's column. The loader calls it
only when the parser has failed, so a valid file can never be refused by this scan.
"""

from __future__ import annotations

import re

from implant_match.errors import Problem
from implant_match.messages import N_

_KEY_LINE = re.compile(
    r"""^(?P<indent>[ ]*)(?P<dash>(?:-[ ]+)*)"""
    r"""(?P<key>"[^"]*"|'[^']*'|[^\s'"#\[\]{}:,&*!|>%@`-][^#:]*?|-[^\s#:][^#:]*?)"""
    r"""[ ]*:(?:[ ]+|$)(?P<value>.*)$"""
)
_ITEM_LINE = re.compile(r"^(?P<indent>[ ]*)(?P<dash>(?:-[ ]+)+)(?P<value>.*)$")
_BLOCK_SCALAR = re.compile(r"^[|>][-+0-9]*[ ]*(?:#.*)?$")
_PLAIN_STARTS_NOT = set("'\"[{|>&*!#%@`")
QUOTE_IF_COLON = N_("put the text in double quotes if a ':' followed by a space is part of it")


def find_traps(text: str, path: str) -> list[Problem]:
    """Every trap of ``text`` (a YAML file named ``path``), in line order."""
    problems: list[Problem] = []
    block_indent: int | None = None  # inside a ``|`` or ``>`` block: its key's indent
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue  # a line of the block's text: anything goes
            block_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        lead = line[:indent]
        if "\t" in lead:
            problems.append(
                Problem(
                    path,
                    number,
                    lead.index("\t") + 1,
                    "error",
                    N_("YAML syntax error: a tab in the indentation"),
                    N_("indent with spaces: YAML does not allow tabs there"),
                )
            )
            continue
        found = _KEY_LINE.match(line)
        if found is not None:
            value_at = found.start("value")
            value = found.group("value")
            if _BLOCK_SCALAR.match(value):
                block_indent = len(found.group("indent")) + len(found.group("dash"))
                continue
            key = found.group("key").strip("'\"")
            problems.extend(_value_traps(path, number, value, value_at, key))
            continue
        item = _ITEM_LINE.match(line)
        if item is not None:
            value = item.group("value")
            if value[:1] in ("'", '"', "["):
                problems.extend(_value_traps(path, number, value, item.start("value"), None))
    return problems


def _value_traps(path: str, number: int, value: str, offset: int, key: str | None) -> list[Problem]:
    """Traps in the value of one line, ``offset`` characters into it."""
    if not value or value.startswith("#"):
        return []
    first = value[0]
    if first in ("'", '"'):
        trap = _quoted_trap(value, 0, block=True)
        return [] if trap is None else [_quote_problem(path, number, offset, value, trap, key)]
    if first == "[":
        return _flow_traps(path, number, value, offset, key)
    if first in _PLAIN_STARTS_NOT or key is None:
        return []
    text = value.split(" #", 1)[0].rstrip()
    colon = _colon_in_plain(text)
    if colon is None:
        return []
    return [
        Problem(
            path,
            number,
            offset + colon + 1,
            "error",
            N_("':' followed by a space inside unquoted text: YAML reads it as a new key"),
            N_("put the text in double quotes: {written}"),
            params={"written": f'{key}: "{_escaped(text)}"'},
        )
    ]


def _colon_in_plain(text: str) -> int | None:
    """Index of the first ``: `` (or a final ``:``) in an unquoted value, if any."""
    found = text.find(": ")
    if found >= 0:
        return found
    return len(text) - 1 if text.endswith(":") else None


def _quoted_trap(value: str, start: int, block: bool) -> int | None:
    """Index of the quote that ends the quoted text at ``start`` too early (text follows
    it where only the end of the line, a comment, or in a flow ``,``/``]`` may), or None."""
    quote = value[start]
    i = start + 1
    while i < len(value):
        char = value[i]
        if quote == '"' and char == "\\":
            i += 2
            continue
        if char == quote:
            if quote == "'" and value[i + 1 : i + 2] == "'":
                i += 2  # '' is an escaped apostrophe
                continue
            rest = value[i + 1 :].lstrip(" ")
            allowed = ("", "#") if block else (",", "]", "}", "#", ":")
            if rest == "" or any(rest.startswith(a) for a in allowed if a):
                return None
            return i
        i += 1
    return None  # no end on this line: a text on several lines, left to the parser


def _quote_problem(
    path: str, number: int, offset: int, value: str, at: int, key: str | None
) -> Problem:
    start = _opening(value, at)
    quote = value[start]
    end = value.rfind(quote)
    inner = value[start + 1 : end] if end > at else value[start + 1 :]
    fixed = f'"{_escaped(inner)}"'
    written = f"{key}: {fixed}" if key else fixed
    if quote == "'":
        message = N_("an apostrophe inside single-quoted text ends the text")
        hint = N_("put the text in double quotes: {written}")
    else:
        message = N_("a double quote inside double-quoted text ends the text")
        hint = N_("escape the quotes inside: {written}, or write « » instead")
    return Problem(
        path, number, offset + at + 1, "error", message, hint, params={"written": written}
    )


def _opening(value: str, at: int) -> int:
    """Index of the quote that opened the quoted text whose early end is at ``at``."""
    quote = value[at]
    i = at - 1
    while i >= 0:
        if value[i] == quote and (i == 0 or value[i - 1] in " [,{"):
            return i
        i -= 1
    return 0


def _flow_traps(path: str, number: int, value: str, offset: int, key: str | None) -> list[Problem]:
    """Quote traps inside a one-line flow list such as ``["a", 'l'atelier']``."""
    problems = []
    i = 1
    while i < len(value):
        char = value[i]
        if char in ("'", '"') and value[i - 1] in "[, ":
            trap = _quoted_trap(value, i, block=False)
            if trap is not None:
                problems.append(_quote_problem(path, number, offset, value, trap, None))
                break  # the rest of the line no longer reads as intended
            i = _closing(value, i)
        elif char == "]":
            break
        i += 1
    return problems


def _closing(value: str, start: int) -> int:
    """Index of the quote that closes the quoted text at ``start`` (or the line's end)."""
    quote = value[start]
    i = start + 1
    while i < len(value):
        if quote == '"' and value[i] == "\\":
            i += 2
            continue
        if value[i] == quote:
            if quote == "'" and value[i + 1 : i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return len(value)


def _escaped(text: str) -> str:
    """Text as it goes between double quotes: backslashes and double quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')
