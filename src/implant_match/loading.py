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

import codecs
import hashlib
import os
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from implant_match.errors import DataError, Problem
from implant_match.messages import N_, Phrase

try:  # the C parser is ~10x faster; the pure-Python one is a fallback, same events
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import Loader as _Parser  # type: ignore[assignment]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIAS_EXPANSION = 200_000
MAX_INT_DIGITS = 30  # longer digit strings stay text (and fail where a number is expected)
_SCANNED_KEYS = 32  # a bigger mapping keeps a dict from key to child for SourceMap.locate

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
_NUMBER_START = frozenset("+-.0123456789")  # the first character of any match of the above

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
    yaml11_reading: str  # what those tools make of it, in English: "a date"
    # the same as a phrase the output layer words in the reader's language
    reading: Phrase | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.text


@dataclass
class SourceMap:
    """Where each value of a loaded document stands in its file (0-based line/column inside).

    A national directory holds millions of values, so their positions are not kept in dicts
    keyed by path tuples (those weighed twice as much as the data itself) but in one flat
    array of machine integers that mirrors the data, a few words per value:

    * each mapping or sequence owns a block of ``_tree``: its number of children, the
      offset of its keys in ``_names`` (-1 for a sequence), then one entry per child;
    * a child's entry holds the line and column of its value and the offset of its own block
      (-1 for a scalar or an alias: nothing below it has a position); in a mapping, the line
      and column of its key come first. An entry is known by the offset of its value's line;
    * ``_document`` is the entry of the top value (-1 when there is none).

    Data built in memory (``Dataset.from_records``) has no lines: its map is ``by_path``
    and locates a problem by the path of the value, such as ``needs[3].themes[1]``.
    """

    path: str
    by_path: bool = False
    # raw file index of each record kept when some records of a list were invalid
    record_indices: dict[PathKey, list[int]] = field(default_factory=dict)
    _tree: array[int] = field(default_factory=lambda: array("q"), repr=False)
    _names: list[str] = field(default_factory=list, repr=False)
    # key -> child index of each mapping too big to search by scanning its keys
    _lookup: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)
    _document: int = -1

    def locate(self, loc: PathKey, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value (or key) at ``loc``, or its nearest ancestor."""
        entry, has_key = self._document, False
        if entry < 0:
            return 1, 1
        tree = self._tree
        for step in loc:
            child = self._child(tree[entry + 2], step)
            if child is None:
                break
            entry, has_key = child
        if key and has_key:
            return tree[entry - 2] + 1, tree[entry - 1] + 1
        return tree[entry] + 1, tree[entry + 1] + 1

    def _child(self, block: int, step: str | int) -> tuple[int, bool] | None:
        """The entry of child ``step`` of the container at ``block`` (and whether it has a
        key), or None when that child has no position of its own."""
        if block < 0:
            return None
        tree = self._tree
        count, names_at = tree[block], tree[block + 1]
        if names_at < 0:  # a sequence (``True`` finds item 1, as it did in a tuple key)
            if isinstance(step, int) and 0 <= step < count:
                return block + 2 + 3 * step, False
            return None
        if not isinstance(step, str):  # a mapping: its keys are all text
            return None
        index = self._lookup.get(block)
        if index is not None:
            found = index.get(step)
            if found is None:
                return None
        else:
            try:
                found = self._names.index(step, names_at, names_at + count) - names_at
            except ValueError:
                return None
        return block + 4 + 5 * found, True

    def problem(
        self,
        loc: PathKey,
        message: str,
        *,
        key: bool = False,
        hint: str | None = None,
        severity: str = "error",
        params: dict[str, Any] | None = None,
    ) -> Problem:
        """A problem at ``loc``; given ``params``, ``message`` and ``hint`` are templates."""
        if self.by_path:
            return Problem(dotted(loc) or self.path, 0, 0, severity, message, hint, params)  # type: ignore[arg-type]
        line, column = self.locate(loc, key=key)
        return Problem(self.path, line, column, severity, message, hint, params)  # type: ignore[arg-type]

    def where(self, loc: PathKey) -> str:
        """How a message names the place of another value: ``line 12`` or ``needs[2].id``."""
        return dotted(loc) if self.by_path else f"line {self.locate(loc)[0]}"

    def place(self, loc: PathKey) -> Phrase | str:
        """:meth:`where` as a phrase the output layer words in the reader's language."""
        if self.by_path:
            return dotted(loc)
        return Phrase.of(N_("line {line}"), line=self.locate(loc)[0])

    def drop_positions(self) -> None:
        """Forget every position (``locate`` then answers line 1, column 1)."""
        self._tree = array("q")
        self._names = []
        self._lookup = {}
        self._document = -1


def dotted(loc: PathKey) -> str:
    """``("needs", 3, "themes", 1)`` as ``needs[3].themes[1]``."""
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


@dataclass
class Document:
    """One loaded YAML file: its data and where each part of it stands."""

    data: Any
    source: SourceMap
    # SHA-256 (hex) of the bytes that were parsed, taken as they were read: what a cache
    # entry of this data is keyed on (None when not read from a file)
    digest: str | None = None


# -- where the data files are ----------------------------------------------------------

NEEDS_FILE = "needs.yaml"
ENTERPRISES_FILE = "enterprises.yaml"


@dataclass(frozen=True)
class DataPaths:
    """The data files to read, and how to name them in messages."""

    needs: Path
    enterprises: Path
    # further candidate files, read after ``enterprises`` (``--enterprises`` given again)
    more_enterprises: tuple[Path, ...] = ()
    # the files taken from the bundled example data because ./data/ lacks them
    bundled: tuple[str, ...] = ()

    @property
    def enterprise_files(self) -> tuple[Path, ...]:
        """Every candidate file, in the order given."""
        return (self.enterprises, *self.more_enterprises)

    @property
    def needs_display(self) -> str:
        return _display(self.needs)

    @property
    def enterprises_display(self) -> str:
        return _display(self.enterprises)


def display_path(path: Path) -> str:
    """How messages name a file: relative to the working folder when it lies inside."""
    return _display(path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere; a symbolic link loop
        return str(path)


def bundled_data_dir() -> Path:
    """The copy of ``data/`` shipped inside the package (or the source tree's, in a checkout)."""
    shipped = Path(str(resources.files("implant_match"))) / "bundled"
    if (shipped / NEEDS_FILE).is_file():
        return shipped
    return Path(__file__).resolve().parents[2] / "data"


def resolve_paths(
    needs: Path | None = None, enterprises: Path | Sequence[Path] | None = None
) -> DataPaths:
    """Explicit paths win; else ``./data/`` when it holds the file; else the bundled copy
    (named in ``DataPaths.bundled``). ``enterprises`` may be several files and folders: a
    folder stands for its ``*.yaml`` files, sorted by name."""
    bundled: list[str] = []

    def pick(explicit: Path | None, name: str) -> Path:
        if explicit is not None:
            return explicit
        local = Path("data") / name
        if local.is_file():
            return local
        bundled.append(f"data/{name}")
        return bundled_data_dir() / name

    given = [enterprises] if isinstance(enterprises, Path) else list(enterprises or ())
    candidates = candidate_files(given)
    needs_path = pick(needs, NEEDS_FILE)
    first = pick(candidates[0] if candidates else None, ENTERPRISES_FILE)
    return DataPaths(needs_path, first, tuple(candidates[1:]), tuple(bundled))


# in a folder of candidate files, the files of the other kinds are not candidates
NOT_CANDIDATES = frozenset({NEEDS_FILE, "lexicon.yaml", "weights.yaml"})


def candidate_files(given: Sequence[Path]) -> list[Path]:
    """The files ``given`` stands for, in order: a folder gives its ``*.yaml`` files sorted
    by name, but for ``needs.yaml``, ``lexicon.yaml`` and ``weights.yaml`` (an empty folder
    gives itself, so that reading it says what is wrong)."""
    files: list[Path] = []
    for path in given:
        inside = (
            sorted(p for p in path.glob("*.yaml") if p.is_file() and p.name not in NOT_CANDIDATES)
            if path.is_dir()
            else []
        )
        files.extend(inside or [path])
    return files


# -- reading ---------------------------------------------------------------------------


def max_bytes() -> int:
    """The largest data file accepted; ``IMPLANT_MATCH_MAX_BYTES`` raises it for big runs."""
    raw = os.environ.get("IMPLANT_MATCH_MAX_BYTES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MAX_BYTES


def read_bytes(path: Path, display: str | None = None) -> bytes:
    """Read a data file, refusing what is too big or not a file."""
    name = display or str(path)
    limit = max_bytes()
    try:
        if path.is_dir():
            raise DataError([Problem(name, 0, 0, "error", N_("is a folder, not a YAML file"))])
        with path.open("rb") as handle:
            raw = read_at_most(handle, limit)
    except FileNotFoundError:
        raise DataError([Problem(name, 0, 0, "error", N_("no such file"))]) from None
    except PermissionError:
        problem = Problem(name, 0, 0, "error", N_("cannot read: permission denied"))
        raise DataError([problem]) from None
    except OSError as exc:
        problem = Problem(
            name, 0, 0, "error", N_("cannot read: {reason}"), params={"reason": exc.strerror}
        )
        raise DataError([problem]) from None
    if len(raw) > limit:
        raise DataError(
            [
                Problem(
                    name,
                    0,
                    0,
                    "error",
                    N_("file is larger than the {size} limit"),
                    N_("set IMPLANT_MATCH_MAX_BYTES to a larger number of bytes if it is genuine"),
                    {"size": _size(limit)},
                )
            ]
        )
    return raw


READ_CHUNK = 16 << 20


def read_at_most(handle: BinaryIO, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``handle`` (one more tells the file is too big).

    ``handle.read(limit + 1)`` would allocate the whole limit at once, whatever the file's
    size: a limit of 30 GB failed every command with a bare MemoryError. The buffer is
    sized by the file instead (or grows by chunks for a pipe, or a file that grows).
    """
    try:
        size = os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        size = 0
    raw = handle.read(min(limit, size) + 1) if size else b""
    if size and len(raw) <= min(limit, size):  # all of it (or a file that shrank)
        return raw
    pieces = [raw]
    total = len(raw)
    while total <= limit:
        chunk = handle.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        pieces.append(chunk)
        total += len(chunk)
    return b"".join(pieces)


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


SAVE_AS_UTF8 = N_("save it as 'UTF-8' in your editor")
# UTF-32 first: its little-endian BOM starts with UTF-16's
_BOMS = (
    ((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), N_("file is encoded as UTF-32, not UTF-8")),
    ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), N_("file is encoded as UTF-16, not UTF-8")),
)


def decode(
    raw: bytes,
    name: str,
    *,
    hint: str = SAVE_AS_UTF8,
    fallback: Callable[[bytes], str | None] | None = None,
) -> str:
    """Decode UTF-8 (a BOM is accepted); anything else gets a message saying how to save
    (``hint``), unless ``fallback`` reads the bytes another way (a spreadsheet program's
    legacy encoding) and returns their text."""
    for boms, message in _BOMS:
        if raw.startswith(boms):
            raise DataError([Problem(name, 1, 1, "error", message, hint)])
    if b"\x00" in raw:  # UTF-16 without its BOM
        line, column = position(raw, raw.index(b"\x00"))
        message = N_("file holds NUL bytes: it is probably encoded as UTF-16, not UTF-8")
        raise DataError([Problem(name, line, column, "error", message, hint)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        legacy = fallback(raw) if fallback is not None else None
        if legacy is not None:
            return legacy
        line, column = position(raw, exc.start)
        guess: Phrase | str = (
            "Windows-1252/Latin-1"
            if fallback is None and _looks_like_latin1(raw)
            else Phrase.of(N_("another encoding"))
        )
        raise DataError(
            [
                Problem(
                    name,
                    line,
                    column,
                    "error",
                    N_("file is not valid UTF-8 (byte 0x{byte}); it looks like {guess}"),
                    hint,
                    {"byte": f"{raw[exc.start]:02x}", "guess": guess},
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
                    N_("control character U+{code} is not allowed in a YAML file"),
                    N_("remove it (it may come from a copy and paste)"),
                    {"code": f"{ord(found.group()):04X}"},
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
    """Read and parse one YAML data file into plain data plus a :class:`SourceMap`.

    The file is decoded only to be checked: the parser then reads its bytes, which are the
    text's own UTF-8 less the BOM, so a big file is not held twice while its data is built.
    """
    name = display or str(path)
    raw = read_bytes(path, name)
    digest = hashlib.sha256(raw).hexdigest()  # of these very bytes, in the parsing process
    decode(raw, name)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    document = _parse(raw, name)
    document.digest = digest
    return document


def parse_document(text: str, name: str) -> Document:
    """Parse YAML text (already decoded) into plain data plus a :class:`SourceMap`."""
    check_characters(text, name)
    return _parse(text, name)


def _parse(content: str | bytes, name: str) -> Document:
    source = SourceMap(name)
    builder = _Builder(source)
    parser = _Parser(content)
    try:
        data = builder.build(parser)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        detail = parser_reason(exc.problem, exc.context)
        tab = indentation_tab(content, line)
        if tab:  # PyYAML says so in one case only, "cannot start any token" in others
            problem = Problem(
                name,
                line,
                tab,
                "error",
                N_("YAML syntax error: a tab in the indentation"),
                N_("indent with spaces: YAML does not allow tabs there"),
            )
        else:
            problem = Problem(
                name,
                line,
                column,
                "error",
                N_("YAML syntax error: {detail}"),
                params={"detail": detail},
            )
        builder.problems.append(problem)
        raise DataError(with_traps(builder.problems, content, name)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml always marks its errors
        builder.problems.append(Problem(name, 0, 0, "error", f"YAML error: {exc}"))
        raise DataError(builder.problems) from None
    finally:
        parser.dispose()
    if builder.problems:
        raise DataError(builder.problems)
    if data is None:
        raise DataError([Problem(name, 0, 0, "error", N_("file is empty: it holds no YAML data"))])
    return Document(data, source)


# The parser's common reasons (libyaml's and PyYAML's words), worded for the reader; others
# stay as the parser says them
_PARSER_WORDS = frozenset(
    (
        N_("did not find expected key"),
        N_("did not find expected node content"),
        N_("did not find expected '-' indicator"),
        N_("did not find expected <document start>"),
        N_("did not find expected comment or line break"),
        N_("did not find expected alphabetic or numeric character"),
        N_("did not find expected hexdecimal number"),
        N_("could not find expected ':'"),
        N_("mapping values are not allowed in this context"),
        N_("mapping values are not allowed here"),
        N_("block sequence entries are not allowed in this context"),
        N_("found character that cannot start any token"),
        N_("found unexpected end of stream"),
        N_("found unexpected ':'"),
        N_("found unknown escape character"),
        N_("found invalid Unicode character escape code"),
        N_("found a tab character that violates indentation"),
        N_("found incompatible YAML document"),
        N_("found unknown directive name"),
        N_("found undefined tag handle"),
        N_("exceeded maximum nesting depth"),
        N_("while parsing a flow sequence"),
        N_("while parsing a flow mapping"),
        N_("while parsing a block mapping"),
        N_("while parsing a block collection"),
        N_("while parsing a block node"),
        N_("while parsing a flow node"),
        N_("while parsing a node"),
        N_("while parsing a quoted scalar"),
        N_("while scanning a quoted scalar"),
        N_("while scanning a plain scalar"),
        N_("while scanning a block scalar"),
        N_("while scanning a simple key"),
        N_("while scanning for the next token"),
        N_("while scanning an anchor"),
        N_("while scanning an alias"),
        N_("while scanning a tag"),
        N_("while scanning a directive"),
        N_("while increasing flow level"),
        N_("while increasing block level"),
        N_("while increasing indent level"),
    )
)


def parser_reason(problem: str | None, context: str | None) -> Phrase | str:
    """The YAML parser's reason for refusing a file, ``problem (context)``: the parts it
    often gives as phrases the output layer words in the reader's language, the others in
    the parser's own English."""
    parts = [_parser_words(text) for text in (problem, context) if text]
    if len(parts) == 2:
        return Phrase.of("{problem} ({context})", problem=parts[0], context=parts[1])
    return parts[0] if parts else ""


_CLOSING = re.compile(r"did not find expected ',' or '(?P<bracket>[\]}])'")


def _parser_words(text: str) -> Phrase | str:
    closing = _CLOSING.fullmatch(text)
    if closing:
        template = N_("did not find expected ',' or '{bracket}'")
        return Phrase.of(template, bracket=closing["bracket"])
    return Phrase.of(text) if text in _PARSER_WORDS else text


def indentation_tab(content: str | bytes, line: int) -> int:
    """The column of the first tab in the indentation of ``line`` (1-based), or 0."""
    if line < 1:
        return 0
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if not start:
            return 0
    end = text.find("\n", start)
    row = text[start : end if end >= 0 else len(text)]
    indent = row[: len(row) - len(row.lstrip(" \t"))]
    return indent.find("\t") + 1


def with_traps(problems: list[Problem], content: str | bytes, name: str) -> list[Problem]:
    """The parser's problems with, when the text holds the usual traps (a ': ' in unquoted
    text, an apostrophe in single quotes, a tab), all of them and their fix; the parser's
    own error stays when it lies on another line than every trap, with a hint to quote
    when it is the error a ': ' in unquoted text gives."""
    from implant_match.yaml_traps import QUOTE_IF_COLON, find_traps

    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    traps = find_traps(text, name)
    lines = {t.line for t in traps}
    # what the parser says of a ': ' the scan could not see (in a text on several lines)
    kept = [
        replace(
            p,
            hint=p.hint or QUOTE_IF_COLON,
            hint_template=p.hint_template or (None if p.hint else QUOTE_IF_COLON),
        )
        if "mapping values are not allowed" in p.message
        else p
        for p in problems
        if p.line not in lines
    ]
    return [*traps, *kept]


class _Fatal(Exception):
    """Stop building: the problem is already recorded."""


class _Frame:
    """A mapping or sequence being built, with the entries of the children attached so far."""

    __slots__ = (
        "anchor",
        "awaiting_key",
        "column",
        "container",
        "entries",
        "index",
        "key",
        "line",
        "nodes_at_start",
    )

    def __init__(
        self, mapping: bool, anchor: str | None, nodes_at_start: int, line: int, column: int
    ) -> None:
        self.container: Any = {} if mapping else []
        # a mapping's keys, in order, -> child index: finds the first of two duplicate keys,
        # and the source map keeps it to search a big mapping
        self.index: dict[str, int] | None = {} if mapping else None
        self.entries: list[int] = []  # laid out as in SourceMap._tree
        self.anchor = anchor
        self.nodes_at_start = nodes_at_start
        self.line = line  # where the container itself starts
        self.column = column
        self.awaiting_key = mapping
        self.key = ""


class _Builder:
    """Turns parser events into plain Python values, iteratively (no recursion).

    A big file is millions of events, so the loop is written for speed: it pulls events
    from the parser itself, dispatches on their exact class, resolves a plain key once per
    distinct text and records positions as integers, without building any path.
    """

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded node count)
        # one str object per distinct key or untagged text: a directory repeats the same keys,
        # themes and legal forms a million times, and each copy would weigh 50-100 bytes
        self.strings: dict[str, str] = {}
        self.plain_keys: dict[str, str] = {}  # plain key text -> the key it stands for

    def fail(
        self,
        line: int,
        column: int,
        message: str,
        hint: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        """Record a problem at a 0-based position (``params``: message and hint are templates)."""
        self.problems.append(
            Problem(self.source.path, line + 1, column + 1, "error", message, hint, params)
        )

    def build(self, parser: Any) -> Any:
        """The document's value, or None when it has none or a fatal problem stopped it."""
        get_event = parser.get_event
        anchors = self.anchors
        plain_keys = self.plain_keys
        strings = self.strings
        top = _Frame(False, None, 0, 0, 0)  # a sequence that receives the document's value
        stack = [top]
        frame = top
        nodes = 0  # nodes as expanded, aliases included
        documents = 0
        try:
            while True:
                event = get_event()
                kind = type(event)
                # each branch either ends with a value to attach to ``frame`` (its position
                # in ``line`` and ``column``, its own block of positions in ``block``) or
                # goes on to the next event
                if kind is ScalarEvent:
                    nodes += 1
                    mark = event.start_mark
                    if frame.awaiting_key:
                        if event.tag is None and not event.anchor:
                            text = event.value
                            if not event.implicit[0]:
                                key = strings.setdefault(text, text)
                            elif (known := plain_keys.get(text)) is not None:
                                key = known
                            else:
                                key = plain_keys[text] = self._key(resolve_plain(text))
                        else:
                            value = self._scalar(event)
                            if event.anchor:
                                anchors[event.anchor] = (value, 1)
                            key = self._key(value)
                        frame.key = key
                        frame.entries += (mark.line, mark.column)
                        frame.awaiting_key = False
                        continue
                    if event.tag is None:
                        value = event.value
                        if event.implicit[0]:
                            value = resolve_plain(value)
                        if type(value) is str:
                            value = strings.setdefault(value, value)
                    else:
                        value = self._scalar(event)
                    if event.anchor:
                        anchors[event.anchor] = (value, 1)
                    line, column, block = mark.line, mark.column, -1
                elif kind is MappingStartEvent or kind is SequenceStartEvent:
                    mapping = kind is MappingStartEvent
                    self._check_tag(event, mapping)
                    mark = event.start_mark
                    if len(stack) > MAX_DEPTH:  # the top sequence is not a level
                        self.fail(
                            mark.line,
                            mark.column,
                            N_("data is nested more than {depth} levels deep"),
                            params={"depth": MAX_DEPTH},
                        )
                        raise _Fatal
                    nodes += 1
                    frame = _Frame(mapping, event.anchor, nodes, mark.line, mark.column)
                    stack.append(frame)
                    continue
                elif kind is MappingEndEvent or kind is SequenceEndEvent:
                    done = stack.pop()
                    frame = stack[-1]
                    value = done.container
                    if done.anchor:
                        anchors[done.anchor] = (value, nodes - done.nodes_at_start + 1)
                    if frame.awaiting_key:
                        mark = event.start_mark
                        self._not_a_key(mark.line, mark.column)
                    line, column, block = done.line, done.column, self._close(done)
                elif kind is AliasEvent:
                    mark = event.start_mark
                    if event.anchor not in anchors:
                        self.fail(
                            mark.line,
                            mark.column,
                            N_("unknown alias '*{anchor}'"),
                            params={"anchor": event.anchor},
                        )
                        raise _Fatal
                    value, size = anchors[event.anchor]
                    nodes += size
                    if nodes > MAX_ALIAS_EXPANSION:
                        self.fail(
                            mark.line,
                            mark.column,
                            N_(
                                "aliases expand to too many values (an 'alias bomb'?); "
                                "write the data out instead of using '*' references"
                            ),
                        )
                        raise _Fatal
                    if frame.awaiting_key:
                        if isinstance(value, (dict, list)):
                            self._not_a_key(mark.line, mark.column)
                        frame.key = self._key(value)
                        frame.entries += (mark.line, mark.column)
                        frame.awaiting_key = False
                        continue
                    line, column, block = mark.line, mark.column, -1
                elif kind is DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        mark = event.start_mark
                        self.fail(
                            mark.line,
                            mark.column,
                            N_("file holds several YAML documents ('---'); expected exactly one"),
                        )
                        raise _Fatal
                    continue
                elif kind is StreamEndEvent:
                    break
                else:  # the start of the stream, the end of the document
                    continue
                index = frame.index
                if index is None:
                    frame.container.append(value)
                else:
                    frame.awaiting_key = True
                    key = frame.key
                    if key in index:
                        self._duplicate(frame)
                        continue
                    index[key] = len(index)
                    frame.container[key] = value
                frame.entries += (line, column, block)
        except _Fatal:
            return None
        block = self._close(top)
        if not top.container:
            return None
        self.source._document = block + 2
        return top.container[0]

    def _duplicate(self, frame: _Frame) -> None:
        """Report the second value of a key, whose key position is already in the entries."""
        assert frame.index is not None
        entries = frame.entries
        line, column = entries[-2:]
        del entries[-2:]
        first_line = entries[5 * frame.index[frame.key]] + 1
        self.fail(
            line,
            column,
            N_("duplicate key '{key}' (first defined on line {line})"),
            N_("remove or rename one of them"),
            params={"key": frame.key, "line": first_line},
        )

    def _close(self, frame: _Frame) -> int:
        """Move the entries of a finished container into the source map; its block offset."""
        source = self.source
        tree = source._tree
        block = len(tree)
        index = frame.index
        if index is None:
            tree.append(len(frame.container))
            tree.append(-1)
        else:
            tree.append(len(index))
            tree.append(len(source._names))
            source._names.extend(index)
            if len(index) > _SCANNED_KEYS:
                source._lookup[block] = index
        tree.extend(frame.entries)
        return block

    def _not_a_key(self, line: int, column: int) -> None:
        self.fail(line, column, N_("a mapping key must be a plain word, not a list or mapping"))
        raise _Fatal

    def _key(self, value: Any) -> str:
        """The key a scalar stands for: as written for a YAML 1.1 surprise, ``null`` for an
        empty one, a number or boolean as Python prints it; one str object per key."""
        key = value.text if isinstance(value, Yaml11Scalar) else value
        if key is None:
            key = "null"
        elif not isinstance(key, str):
            key = str(key)
        return self.strings.setdefault(key, key)

    def _check_tag(self, event: Any, mapping: bool) -> None:
        tag = event.tag
        expected = "tag:yaml.org,2002:map" if mapping else "tag:yaml.org,2002:seq"
        if tag not in (None, "!", expected):
            mark = event.start_mark
            self.fail(
                mark.line,
                mark.column,
                N_("tag '{tag}' is not allowed"),
                N_("data files hold plain values only"),
                params={"tag": _short_tag(tag)},
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
        mark = event.start_mark
        if tag in _PLAIN_TAGS:
            resolved = resolve_plain(value)
            expected = _TAG_TYPES[tag]
            if isinstance(resolved, expected) and not (
                isinstance(resolved, bool) and bool not in expected
            ):
                return resolved
            self.fail(
                mark.line,
                mark.column,
                N_("'{value}' is not a valid {tag} value"),
                params={"value": value, "tag": _short_tag(tag)},
            )
            return value
        self.fail(
            mark.line,
            mark.column,
            N_("tag '{tag}' is not allowed"),
            N_("data files hold plain values only; nothing was run"),
            params={"tag": _short_tag(tag)},
        )
        raise _Fatal


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag


_YAML11_NUMBER_READING = Phrase.of(N_("a number (octal, hexadecimal or with '_')"))
_SEXAGESIMAL_READING = Phrase.of(N_("a base-60 number"))
_TIMESTAMP_READING = Phrase.of(N_("a date"))


def resolve_plain(value: str) -> Any:
    """Resolve an unquoted scalar the YAML 1.2 core way, flagging YAML 1.1 surprises."""
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if value[0] not in _NUMBER_START:  # a word: none of the patterns can match
        if value in _YAML11_BOOL:
            reading = Phrase.of(N_("the boolean {value}"), value=str(_YAML11_BOOL[value]).lower())
            return Yaml11Scalar(value, str(reading), reading)
        return value
    if _INT.fullmatch(value):
        return int(value) if len(value) <= MAX_INT_DIGITS else value
    if _FLOAT.fullmatch(value):
        return float(value) if len(value) <= MAX_INT_DIGITS else value
    if _YAML11_NUMBER.fullmatch(value):
        return Yaml11Scalar(value, str(_YAML11_NUMBER_READING), _YAML11_NUMBER_READING)
    if _SEXAGESIMAL.fullmatch(value):
        return Yaml11Scalar(value, str(_SEXAGESIMAL_READING), _SEXAGESIMAL_READING)
    if _TIMESTAMP.fullmatch(value):
        return Yaml11Scalar(value, str(_TIMESTAMP_READING), _TIMESTAMP_READING)
    return value
