"""Export stage: a finished shortlist as JSON, CSV or Excel, for programs and analysts.

One exporter per format behind the same ``write(rows, destination)`` call, and a registry
mapping a file extension to it. Every exporter writes the same rows: one per need-enterprise
pair, in the order ``implant-match rank`` shows them. Files appear whole or not at all
(written beside the target, then renamed), and text that a spreadsheet would run as a
formula is neutralised (OWASP "CSV injection", CWE-1236).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from implant_match.errors import ExportError, UsageError
from implant_match.ranking import Shortlist
from implant_match.results import fits
from implant_match.weights import PARTS

LIST_SEPARATOR = " | "
DECIMALS = 2  # of the CSV and xlsx score columns
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: list[tuple[str, str]] = [
    ("need_id", "Id of the need."),
    ("need_title", "Title of the need."),
    ("territory", "Id of the need's territory."),
    ("priority", "Priority of the need: low, medium or high."),
    ("rank", "Place of the enterprise among the need's candidates (1 = best)."),
    ("enterprise_id", "Id of the enterprise."),
    ("enterprise_name", "Name of the enterprise."),
    ("origin", "Where the enterprise proved its impact."),
    ("score", "Fit score, 0-100: the sum of the part columns."),
    *((part, f"Points of the '{part}' part of the score.") for part in PARTS),
    (
        "stability",
        "Share of weightings (each weight +/-20 %) keeping it in the top N; "
        "empty when not computed.",
    ),
    ("matched_themes", "Need themes the enterprise shows (exactly or more specifically)."),
    ("matched_keywords", "Need key terms found in the enterprise's text."),
    ("partners", "Ids of local actors that could partner with it."),
    ("competitors", "Ids of local actors it would duplicate."),
    ("explanation", "Why, in words."),
    # added for the selection (issue 20): at the end, so that programs reading the
    # earlier columns by position keep working
    (
        "status",
        "Decision in force for the pair: shortlisted, selected, rejected, ineligible or "
        "on-hold; empty when none.",
    ),
    ("note", "The decision's note."),
    ("present", "yes when the enterprise already works on the need's territory."),
    ("extra", "The enterprise's own fields, as 'key: value | key: value'."),
    ("need_extra", "The need's own fields, as 'key: value | key: value'."),
]
COLUMN_NAMES = [name for name, _ in COLUMNS]
COLUMN_DECIMALS = {"stability": 3}


def json_records(shortlist: Shortlist) -> list[dict[str, Any]]:
    """The ranked pairs as JSON-ready objects (``rank --format json`` prints this list)."""
    return [fit.to_dict() for fit in fits(shortlist)]


def table_rows(shortlist: Shortlist, names: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Flat rows in ``COLUMNS`` order; ``names`` maps enterprise id -> (name, origin)."""
    rows = []
    for record in json_records(shortlist):
        name, origin = names[record["enterprise_id"]]
        row: dict[str, Any] = {
            "need_id": record["need_id"],
            "need_title": record["need_title"],
            "territory": record["territory"],
            "priority": record["priority"],
            "rank": record["rank"],
            "enterprise_id": record["enterprise_id"],
            "enterprise_name": name,
            "origin": origin,
            "score": record["score"],
        }
        row.update({part: record["components"].get(part, 0.0) for part in PARTS})
        row["stability"] = record["stability"]
        for key in ("matched_themes", "matched_keywords", "partners", "competitors"):
            row[key] = LIST_SEPARATOR.join(record[key])
        row["explanation"] = " ".join(record["reasons"])
        row["status"] = record["status"] or ""
        row["note"] = record["note"] or ""
        row["present"] = "yes" if record["present"] else ""
        row["extra"] = extra_text(record["extra"])
        row["need_extra"] = extra_text(record["need_extra"])
        rows.append(row)
    return rows


def extra_text(extra: dict[str, Any]) -> str:
    """A team's own fields in one cell: ``key: value | key: value`` (lists joined by ', ')."""

    def shown(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(shown(v) for v in value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "" if value is None else str(value)

    return LIST_SEPARATOR.join(f"{key}: {shown(value)}" for key, value in extra.items())


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula."""
    return "'" + value if value.lstrip(" ").startswith(FORMULA_PREFIXES) else value


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written."""

    name: str
    delimiter: str
    decimal: str
    bom: bool
    line_terminator: str


DIALECTS = {
    "excel-fr": Dialect("excel-fr", ";", ",", True, "\r\n"),
    "rfc4180": Dialect("rfc4180", ",", ".", False, "\r\n"),
}


class Exporter(Protocol):
    """One output format."""

    def write(
        self, rows: list[dict[str, Any]], destination: IO[bytes], context: ExportContext
    ) -> None: ...


@dataclass(frozen=True)
class ExportContext:
    """What exporters may need besides the rows."""

    dialect: Dialect
    json_document: list[dict[str, Any]]
    weights: dict[str, float]


def _number(value: Any, dialect: Dialect, decimals: int = DECIMALS) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value + 0.0:.{decimals}f}".replace(".", dialect.decimal)  # no "-0.00"
    return str(value)


class CsvExporter:
    def write(
        self, rows: list[dict[str, Any]], destination: IO[bytes], context: ExportContext
    ) -> None:
        dialect = context.dialect
        text = io.StringIO(newline="")
        writer = csv.writer(
            text,
            delimiter=dialect.delimiter,
            lineterminator=dialect.line_terminator,
            quoting=csv.QUOTE_MINIMAL,
        )
        writer.writerow(COLUMN_NAMES)
        for row in rows:
            writer.writerow(
                [
                    neutralise(row[name])
                    if isinstance(row[name], str)
                    else _number(row[name], dialect, COLUMN_DECIMALS.get(name, DECIMALS))
                    for name in COLUMN_NAMES
                ]
            )
        destination.write(("\ufeff" if dialect.bom else "").encode("utf-8"))
        destination.write(text.getvalue().encode("utf-8"))


class JsonExporter:
    def write(
        self, rows: list[dict[str, Any]], destination: IO[bytes], context: ExportContext
    ) -> None:
        destination.write(dumps(context.json_document).encode("utf-8"))


class XlsxExporter:
    def write(
        self, rows: list[dict[str, Any]], destination: IO[bytes], context: ExportContext
    ) -> None:
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = "Shortlist"
        sheet.append(COLUMN_NAMES)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, name in enumerate(COLUMN_NAMES, start=1):
                value = row[name]
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)  # XML forbids them
                    cell.data_type = "s"  # never a formula, whatever it starts with
                    if value.lstrip(" ").startswith(FORMULA_PREFIXES):
                        cell.quotePrefix = True
                else:
                    cell.value = value
                    if isinstance(value, float):
                        cell.number_format = "0.00"
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMN_NAMES))}{max(1, len(rows) + 1)}"
        for c, name in enumerate(COLUMN_NAMES, start=1):
            longest = max([len(name), *(len(str(row[name] or "")) for row in rows)])
            sheet.column_dimensions[get_column_letter(c)].width = min(60, max(8, longest + 2))
            if name in ("explanation", "need_title", "matched_keywords"):
                for cell in sheet[get_column_letter(c)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        about = book.create_sheet("Columns")
        about.append(["column", "meaning"])
        for cell in about[1]:
            cell.font = Font(bold=True)
        for name, meaning in COLUMNS:
            about.append([name, meaning])
        about.append([])
        about.append(["weight", "value used"])
        for part, value in context.weights.items():
            about.append([part, value])
        about.column_dimensions["A"].width = 18
        about.column_dimensions["B"].width = 90
        book.save(destination)


EXPORTERS: dict[str, Callable[[], Exporter]] = {
    ".csv": CsvExporter,
    ".json": JsonExporter,
    ".xlsx": XlsxExporter,
}


def dumps(document: Any) -> str:
    """``document`` as indented JSON (two spaces, text unescaped), and a final newline.

    Written by orjson, which writes what ``json.dumps(document, ensure_ascii=False,
    indent=2)`` writes about ten times as fast (the json module indents in pure Python
    before 3.13, a quarter of a second for 5,000 ranked pairs), except for numbers the
    json module would write in exponent form (``1e-06``: ``1e-6`` with orjson, the exact
    form depending on its version) or as ``NaN`` (``null``: JSON has no NaN). What orjson
    does not take (keys that are not text, integers past 64 bits) goes through the json
    module.
    """
    try:
        return orjson.dumps(
            document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ).decode()
    except TypeError:  # orjson.JSONEncodeError too
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def json_items(records: list[Any]) -> str:
    """``dumps(records)`` without its brackets: the items, ready to join with others'."""
    return dumps(records)[2:-3] if records else ""


def json_array(pieces: list[str]) -> list[str]:
    """The JSON array of the items of ``pieces`` (``dumps`` of the joined lists), as
    strings to write one after the other: a big array is never copied into one string."""
    items = [piece for piece in pieces if piece]
    if not items:
        return ["[]\n"]
    out = ["[\n"]
    for item in items:
        out += [item, ",\n"]
    out[-1] = "\n]\n"
    return out


def exporter_for(path: str) -> Exporter:
    if path == "-":
        return CsvExporter()
    if Path(path).is_dir():
        raise ExportError(f"{path}: is a folder; give a file name such as {path}/shortlist.csv")
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORTERS:
        raise UsageError(
            f"cannot tell the format of '{path}' from its extension",
            f"use one of {', '.join(EXPORTERS)}",
        )
    return EXPORTERS[suffix]()


@contextmanager
def atomic_destination(path: Path) -> Iterator[IO[bytes]]:
    """A file beside ``path`` that replaces it only once fully written."""
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name such as {path}/shortlist.csv")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"{path}: folder '{folder}' {what}")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists() and not os.access(path, os.W_OK):
            raise ExportError(f"{path}: permission denied")
        # mkstemp makes 0600 files: give the export the mode any new file would get (or
        # keep the mode of the file it replaces)
        os.chmod(temp_name, _mode_for(path))
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def export(
    shortlist: Shortlist,
    path: str,
    dialect: str,
    names: dict[str, tuple[str, str]],
    weights: dict[str, float],
) -> int:
    """Write the shortlist to ``path`` (``-`` for standard output); return the rows written."""
    if dialect not in DIALECTS:
        raise UsageError(f"unknown dialect '{dialect}'", f"use one of {', '.join(DIALECTS)}")
    exporter = exporter_for(path)
    rows = table_rows(shortlist, names)
    context = ExportContext(DIALECTS[dialect], json_records(shortlist), weights)
    if path == "-":
        exporter.write(rows, sys.stdout.buffer, context)
        sys.stdout.buffer.flush()
        return len(rows)
    try:
        with atomic_destination(Path(path)) as stream:
            exporter.write(rows, stream, context)
    except PermissionError as exc:
        raise ExportError(f"{path}: permission denied ({exc.strerror})") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror})") from None
    return len(rows)
