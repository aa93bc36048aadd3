"""Load stage: bytes on disk -> plain Python data with the line and column of every value.

The reader is built on libyaml's event stream (the C parser when present) rather than on
``yaml.safe_load``, so that it can:

* construct nothing but plain values (a ``!!python/...`` tag is an error and runs nothing);
* report a repeated key in a mapping instead of silently keeping the last one;
* read plain scalars the YAML 1.2 way: ``no``, ``on``, ``0123``, ``1:30`` or ``2024-01-01``
  are never turned into booleans, octal or sexagesimal numbers or dates behind the user's
  back; they become :class:`Yaml11Scalar` values that the schema rejects with a hint;
* refuse alias bombs, deep nesting and oversized files quickly, in bounded memory;
* remember where each value stands, so every later stage can point at ``file:line:col``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from implant_match.errors import DataError, Problem

try:  # the C parser is ~10x faster; the pure-Python one is a fallback, same events
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import Loader as _Parser  # type: ignore[assignment]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIAS_EXPANSION = 200_000
MAX_INT_DIGITS = 30  # longer digit strings stay text (and fail where a number is expected)

PathKey = tuple[str | int, ...]

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML11_BOOL = {
    word: value
    for words, value in (("yes y on", True), ("no n off", False))
    for w in words.split()
    for word in (w, w.capitalize(), w.upper())
}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
)
_YAML11_NUMBER = re.compile(
    r"[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*_[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[-+]?[0-9]+\.[0-9_]*_[0-9_]*"
)
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?")

_STR_TAGS = {"!", "tag:yaml.org,2002:str"}
_TAG_TYPES: dict[str, tuple[type, ...]] = {
    "tag:yaml.org,2002:int": (int,),
    "tag:yaml.org,2002:float": (float, int),
    "tag:yaml.org,2002:bool": (bool,),
    "tag:yaml.org,2002:null": (type(None),),
}
_PLAIN_TAGS = set(_TAG_TYPES)


@dataclass(frozen=True)
class Yaml11Scalar:
    """An unquoted value that YAML 1.1 tools would silently turn into something else.

    It is kept as it was written; the schema refuses it wherever text or a number is
    expected, with a hint to quote it (or write the number plainly).
    """

    text: str
    yaml11_reading: str

    def __str__(self) -> str:
        return self.text


@dataclass
class SourceMap:
    """Where each value of a loaded document stands in its file (0-based line/column)."""

    path: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    # raw file index of each record kept when some records of a list were invalid
    record_indices: dict[PathKey, list[int]] = field(default_factory=dict)

    def locate(self, loc: PathKey, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value (or key) at ``loc``, or its nearest ancestor."""
        probe = tuple(loc)
        while True:
            table = self.keys if key and probe in self.keys else self.values
            if probe in table:
                line, column = table[probe]
                return line + 1, column + 1
            if not probe:
                return 1, 1
            probe = probe[:-1]

    def problem(
        self,
        loc: PathKey,
        message: str,
        *,
        key: bool = False,
        hint: str | None = None,
        severity: str = "error",
    ) -> Problem:
        line, column = self.locate(loc, key=key)
        return Problem(self.path, line, column, severity, message, hint)  # type: ignore[arg-type]


@dataclass
class Document:
    """One loaded YAML file: its data and where each part of it stands."""

    data: Any
    source: SourceMap


def max_bytes() -> int:
    """The largest data file accepted; ``IMPLANT_MATCH_MAX_BYTES`` raises it for big runs."""
    raw = os.environ.get("IMPLANT_MATCH_MAX_BYTES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_BYTES


def read_text(path: Path, display: str | None = None) -> str:
    """Read a UTF-8 text file, refusing what is too big, not a file or not UTF-8."""
    name = display or str(path)
    limit = max_bytes()
    try:
        if path.is_dir():
            raise DataError([Problem(name, 0, 0, "error", "is a folder, not a YAML file")])
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise DataError([Problem(name, 0, 0, "error", "no such file")]) from None
    except PermissionError:
        raise DataError([Problem(name, 0, 0, "error", "permission denied")]) from None
    except OSError as exc:
        raise DataError([Problem(name, 0, 0, "error", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > limit:
        raise DataError(
            [
                Problem(
                    name,
                    0,
                    0,
                    "error",
                    f"file is larger than the {_size(limit)} limit",
                    "set IMPLANT_MATCH_MAX_BYTES to a larger number of bytes if it is genuine",
                )
            ]
        )
    return decode(raw, name)


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def decode(raw: bytes, name: str) -> str:
    """Decode UTF-8 (a BOM is accepted); anything else gets a message saying how to save."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            [
                Problem(
                    name,
                    1,
                    1,
                    "error",
                    "file is encoded as UTF-16, not UTF-8",
                    "save it as 'UTF-8' in your editor",
                )
            ]
        )
    if b"\x00" in raw:
        line, column = position(raw, raw.index(b"\x00"))
        raise DataError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "error",
                    "file holds NUL bytes: it is probably encoded as UTF-16, not UTF-8",
                    "save it as 'UTF-8' in your editor",
                )
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = position(raw, exc.start)
        guess = "Windows-1252/Latin-1" if _looks_like_latin1(raw) else "another encoding"
        raise DataError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "error",
                    f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); it looks like {guess}",
                    "save it as 'UTF-8' in your editor",
                )
            ]
        ) from None
    check_characters(text, name)
    return text


_FORBIDDEN = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


def check_characters(text: str, name: str) -> None:
    """YAML refuses control characters; say which one and where, as other errors do."""
    found = _FORBIDDEN.search(text)
    if found:
        line, column = position(text, found.start())
        raise DataError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "error",
                    f"control character U+{ord(found.group()):04X} is not allowed in a YAML file",
                    "remove it (it may come from a copy and paste)",
                )
            ]
        )


def position(content: Any, offset: int) -> tuple[int, int]:
    """1-based (line, column) of an offset in text or bytes."""
    newline = "\n" if isinstance(content, str) else b"\n"
    return content.count(newline, 0, offset) + 1, offset - (
        content.rfind(newline, 0, offset) + 1
    ) + 1


def _looks_like_latin1(raw: bytes) -> bool:
    return any(0xC0 <= b <= 0xFF for b in raw)


def load_document(path: Path, display: str | None = None) -> Document:
    """Read and parse one YAML data file into plain data plus a :class:`SourceMap`."""
    name = display or str(path)
    text = read_text(path, name)
    return parse_document(text, name)


def parse_document(text: str, name: str) -> Document:
    """Parse YAML text (already decoded) into plain data plus a :class:`SourceMap`."""
    check_characters(text, name)
    source = SourceMap(name)
    builder = _Builder(source)
    parser = _Parser(text)
    try:
        data = builder.build(_events(parser))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.problem:
            message += f" ({exc.context})"
        builder.problems.append(Problem(name, line, column, "error", message))
        raise DataError(builder.problems) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml always marks its errors
        builder.problems.append(Problem(name, 0, 0, "error", f"YAML error: {exc}"))
        raise DataError(builder.problems) from None
    finally:
        parser.dispose()
    if builder.problems:
        raise DataError(builder.problems)
    if data is None:
        raise DataError([Problem(name, 0, 0, "error", "file is empty: it holds no YAML data")])
    return Document(data, source)


def _events(parser: Any) -> Iterator[Any]:
    while True:
        event = parser.get_event()
        yield event
        if isinstance(event, yaml.StreamEndEvent):
            return


class _Fatal(Exception):
    """Stop building: the problem is already recorded."""


@dataclass
class _Frame:
    container: dict[Any, Any] | list[Any]
    path: PathKey
    anchor: str | None
    nodes_at_start: int
    key: Any = None
    key_mark: tuple[int, int] | None = None
    awaiting_key: bool = True


class _Builder:
    """Turns parser events into plain Python values, iteratively (no recursion)."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded node count)
        self.nodes = 0  # nodes as expanded, aliases included
        self.documents = 0

    def fail(self, mark: Any, message: str, hint: str | None = None) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        self.problems.append(Problem(self.source.path, line, column, "error", message, hint))

    def build(self, events: Iterator[Any]) -> Any:
        stack: list[_Frame] = []
        result: Any = None
        try:
            for event in events:
                if isinstance(event, yaml.DocumentStartEvent):
                    self.documents += 1
                    if self.documents > 1:
                        self.fail(
                            event.start_mark,
                            "file holds several YAML documents ('---'); expected exactly one",
                        )
                        raise _Fatal
                    continue
                if isinstance(
                    event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)
                ):
                    continue
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    self._check_tag(event, mapping=isinstance(event, yaml.MappingStartEvent))
                    if len(stack) >= MAX_DEPTH:
                        self.fail(
                            event.start_mark, f"data is nested more than {MAX_DEPTH} levels deep"
                        )
                        raise _Fatal
                    path = self._child_path(stack)
                    self._count(1, event.start_mark)
                    container: dict[Any, Any] | list[Any] = (
                        {} if isinstance(event, yaml.MappingStartEvent) else []
                    )
                    self._place_mark(stack, path, event.start_mark)
                    stack.append(_Frame(container, path, event.anchor, self.nodes))
                    continue
                if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    frame = stack.pop()
                    if frame.anchor:
                        self.anchors[frame.anchor] = (
                            frame.container,
                            self.nodes - frame.nodes_at_start + 1,
                        )
                    if stack:
                        self._attach(stack, frame.container, event.start_mark, frame.path)
                    else:
                        result = frame.container
                    continue
                if isinstance(event, yaml.AliasEvent):
                    value, size = self.anchors.get(event.anchor or "", (None, 0))
                    if event.anchor not in self.anchors:
                        self.fail(event.start_mark, f"unknown alias '*{event.anchor}'")
                        raise _Fatal
                    self._count(size, event.start_mark, alias=True)
                    path = self._child_path(stack)
                    self._place_mark(stack, path, event.start_mark)
                    if stack:
                        self._attach(stack, value, event.start_mark, path)
                    else:
                        result = value
                    continue
                if isinstance(event, yaml.ScalarEvent):
                    value = self._scalar(event)
                    self._count(1, event.start_mark)
                    if event.anchor:
                        self.anchors[event.anchor] = (value, 1)
                    path = self._child_path(stack)
                    if stack and isinstance(stack[-1].container, dict) and stack[-1].awaiting_key:
                        self._attach(stack, value, event.start_mark, path)
                        continue
                    self._place_mark(stack, path, event.start_mark)
                    if stack:
                        self._attach(stack, value, event.start_mark, path)
                    else:
                        result = value
        except _Fatal:
            return None
        return result

    def _count(self, size: int, mark: Any, alias: bool = False) -> None:
        self.nodes += size
        if alias and self.nodes > MAX_ALIAS_EXPANSION:
            self.fail(
                mark,
                "aliases expand to too many values (an 'alias bomb'?); "
                "write the data out instead of using '*' references",
            )
            raise _Fatal

    @staticmethod
    def _child_path(stack: list[_Frame]) -> PathKey:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.awaiting_key:
            return frame.path
        return (*frame.path, frame.key)

    def _place_mark(self, stack: list[_Frame], path: PathKey, mark: Any) -> None:
        self.source.values.setdefault(path, (mark.line, mark.column))

    def _attach(self, stack: list[_Frame], value: Any, mark: Any, path: PathKey) -> None:
        frame = stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
            return
        if frame.awaiting_key:
            if isinstance(value, (dict, list)):
                self.fail(mark, "a mapping key must be a plain word, not a list or mapping")
                raise _Fatal
            key = value.text if isinstance(value, Yaml11Scalar) else value
            if key is None:
                key = "null"
            frame.key = key if isinstance(key, str) else str(key)
            frame.key_mark = (mark.line, mark.column)
            frame.awaiting_key = False
            return
        key = frame.key
        frame.awaiting_key = True
        if key in frame.container:
            first_line = self.source.keys.get((*frame.path, key), (-1, 0))[0] + 1
            self.fail(
                mark if frame.key_mark is None else _Mark(*frame.key_mark),
                f"duplicate key '{key}' (first defined on line {first_line})",
                "remove or rename one of them",
            )
            return
        frame.container[key] = value
        if frame.key_mark is not None:
            self.source.keys[(*frame.path, key)] = frame.key_mark

    def _check_tag(self, event: Any, mapping: bool) -> None:
        tag = event.tag
        expected = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
        if tag not in (None, "!", expected):
            self.fail(
                event.start_mark,
                f"tag '{_short_tag(tag)}' is not allowed",
                "data files hold plain values only",
            )
            raise _Fatal

    def _scalar(self, event: Any) -> Any:
        value: str = event.value
        tag = event.tag
        plain = event.implicit[0]
        if tag is None or (tag == "!" and plain):
            return resolve_plain(value) if plain else value
        if tag in _STR_TAGS:
            return value
        if tag in _PLAIN_TAGS:
            resolved = resolve_plain(value)
            expected = _TAG_TYPES[tag]
            if isinstance(resolved, expected) and not (
                isinstance(resolved, bool) and bool not in expected
            ):
                return resolved
            self.fail(event.start_mark, f"'{value}' is not a valid {_short_tag(tag)} value")
            return value
        self.fail(
            event.start_mark,
            f"tag '{_short_tag(tag)}' is not allowed",
            "data files hold plain values only; nothing was run",
        )
        raise _Fatal


@dataclass(frozen=True)
class _Mark:
    line: int
    column: int


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag


def resolve_plain(value: str) -> Any:
    """Resolve an unquoted scalar the YAML 1.2 core way, flagging YAML 1.1 surprises."""
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.fullmatch(value):
        return int(value) if len(value) <= MAX_INT_DIGITS else value
    if _FLOAT.fullmatch(value):
        return float(value) if len(value) <= MAX_INT_DIGITS else value
    if value in _YAML11_BOOL:
        return Yaml11Scalar(value, f"the boolean {str(_YAML11_BOOL[value]).lower()}")
    if _YAML11_NUMBER.fullmatch(value):
        return Yaml11Scalar(value, "a number (octal, hexadecimal or with '_')")
    if _SEXAGESIMAL.fullmatch(value):
        return Yaml11Scalar(value, "a base-60 number")
    if _TIMESTAMP.fullmatch(value):
        return Yaml11Scalar(value, "a date")
    return value
