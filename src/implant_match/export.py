"""Export stage: a finished shortlist as JSON, CSV or Excel, for programs and analysts.

One exporter per format behind the same ``write(rows, destination)`` call, and a registry
mapping a file extension to it. Every exporter writes the same rows: one per need-enterprise
pair, in the order ``implant-match rank`` shows them. Files appear whole or not at all
(written beside the target, then renamed), and text that a spreadsheet would run as a
formula is neutralised (OWASP "CSV injection", CWE-1236).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from implant_match.dataset import Dataset
from implant_match.errors import UsageError
from implant_match.files import atomic_destination, check_destination
from implant_match.i18n import N_, Language
from implant_match.ranking import Shortlist
from implant_match.results import fits
from implant_match.weights import PARTS

LIST_SEPARATOR = " | "
DECIMALS = 2  # of the CSV and xlsx score columns
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_PART_MEANING = N_("Points of the '{part}' part of the score.")
COLUMNS: list[tuple[str, str]] = [
    ("need_id", N_("Id of the need.")),
    ("need_title", N_("Title of the need.")),
    ("territory", N_("Id of the need's territory.")),
    ("priority", N_("Priority of the need: low, medium or high.")),
    ("rank", N_("Place of the enterprise among the need's candidates (1 = best).")),
    ("enterprise_id", N_("Id of the enterprise.")),
    ("enterprise_name", N_("Name of the enterprise.")),
    ("origin", N_("Where the enterprise proved its impact.")),
    ("score", N_("Fit score, 0-100: the sum of the part columns.")),
    *((part, _PART_MEANING.format(part=part)) for part in PARTS),
    (
        "stability",
        N_(
            "Share of weightings (each weight +/-20 %) keeping it in the top N; "
            "empty when not computed."
        ),
    ),
    ("matched_themes", N_("Need themes the enterprise shows (exactly or more specifically).")),
    ("matched_keywords", N_("Need key terms found in the enterprise's text.")),
    ("partners", N_("Ids of local actors that could partner with it.")),
    ("competitors", N_("Ids of local actors it would duplicate.")),
    ("explanation", N_("Why, in words.")),
    # added for the selection (issue 20): at the end, so that programs reading the
    # earlier columns by position keep working
    (
        "status",
        N_(
            "Decision in force for the pair: shortlisted, selected, rejected, ineligible or "
            "on-hold; empty when none."
        ),
    ),
    ("note", N_("The decision's note.")),
    ("present", N_("yes when the enterprise already works on the need's territory.")),
    ("extra", N_("The enterprise's own fields, as 'key: value | key: value'.")),
    ("need_extra", N_("The need's own fields, as 'key: value | key: value'.")),
]
COLUMN_NAMES = [name for name, _ in COLUMNS]
COLUMN_DECIMALS = {"stability": 3}

# Files for people (the excel-fr CSV, the xlsx) in a language other than English: a header
# people read over each column (the xlsx's Columns sheet maps it back to the column id),
# names instead of ids, and what the meanings say of those columns.
HEADERS = {
    "need_id": N_("Need id"),
    "need_title": N_("Need"),
    "territory": N_("Territory"),
    "priority": N_("Priority"),
    "rank": N_("Rank"),
    "enterprise_id": N_("Enterprise id"),
    "enterprise_name": N_("Enterprise"),
    "origin": N_("Origin"),
    "score": N_("Score"),
    "themes": N_("Themes (points)"),
    "text": N_("Text (points)"),
    "keywords": N_("Key terms (points)"),
    "meaning": N_("Meaning (points)"),
    "complementarity": N_("Complementarity (points)"),
    "stability": N_("Stability"),
    "matched_themes": N_("Themes shown"),
    "matched_keywords": N_("Key terms found"),
    "partners": N_("Possible partners"),
    "competitors": N_("Competitors"),
    "explanation": N_("Explanation"),
    "status": N_("Decision"),
    "note": N_("Note"),
    "present": N_("Already present"),
    "extra": N_("Enterprise's own fields"),
    "need_extra": N_("Need's own fields"),
}
_HUMAN_MEANINGS = {
    "territory": N_("Territory of the need."),
    "partners": N_("Local actors that could partner with it."),
    "competitors": N_("Local actors it would duplicate."),
}


def json_records(
    shortlist: Shortlist, names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The ranked pairs as JSON-ready objects (``rank --format json`` prints this list);
    ``names`` maps an enterprise id to its name."""
    return [fit.to_dict() for fit in fits(shortlist, names)]


def table_rows(shortlist: Shortlist, names: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """Flat rows in ``COLUMNS`` order; ``names`` maps enterprise id -> (name, origin)."""
    rows = []
    for record in json_records(shortlist, _names(names)):
        rows.append(_row(record, names))
    return rows


def human_rows(
    shortlist: Shortlist,
    names: dict[str, tuple[str, str]],
    words: Language,
    dataset: Dataset,
) -> list[dict[str, Any]]:
    """:func:`table_rows` for people reading ``words``' language: names instead of ids
    (territory, themes, partners, competitors), priorities and the explanation in words.
    English rows stay the machine rows, as they always were."""
    if words.code == "en":
        return table_rows(shortlist, names)
    from implant_match.wording import priority, reasons, territory_name, theme_labels

    rows = []
    for fit in fits(shortlist, _names(names)):
        row = _row(fit.to_dict(), names)
        match = fit.match
        row["territory"] = territory_name(dataset, fit.need.territory)
        row["priority"] = priority(fit.need.priority.value, words)
        row["matched_themes"] = LIST_SEPARATOR.join(
            theme_labels(dataset, [t]) for t in match.matched_themes
        )
        row["partners"] = LIST_SEPARATOR.join(a.name for a in match.partners)
        row["competitors"] = LIST_SEPARATOR.join(a.name for a in match.competitors)
        row["explanation"] = " ".join(reasons(match, words))
        rows.append(row)
    return rows


def headers(words: Language | None) -> list[str]:
    """The header row of a file for people: column ids in English, labels otherwise."""
    if words is None or words.code == "en":
        return list(COLUMN_NAMES)
    return [words.gettext(HEADERS[name]) for name in COLUMN_NAMES]


def meanings(words: Language | None) -> list[str]:
    """What each column holds, in the reader's language (the xlsx's Columns sheet)."""
    if words is None or words.code == "en":
        return [meaning for _, meaning in COLUMNS]
    out = []
    for name, meaning in COLUMNS:
        if name in PARTS:
            out.append(words.gettext(_PART_MEANING).format(part=_part(name, words)))
        else:
            out.append(words.gettext(_HUMAN_MEANINGS.get(name, meaning)))
    return out


def _names(names: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {enterprise_id: name for enterprise_id, (name, _) in names.items()}


def _part(name: str, words: Language) -> str:
    from implant_match.wording import part_name

    return part_name(name, words)


def _row(record: dict[str, Any], names: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """One flat row from a JSON record, with the enterprise's name and origin."""
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
    return row


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
    words: Language | None = None  # the language of files for people; None: English


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
        # rfc4180 is for programs: its header is the column ids in every language
        writer.writerow(COLUMN_NAMES if dialect.name == "rfc4180" else headers(context.words))
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
        words = context.words
        _ = words.gettext if words is not None else str
        header = headers(words)
        sheet.title = _("Shortlist")
        sheet.append(header)
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
            longest = max([len(header[c - 1]), *(len(str(row[name] or "")) for row in rows)])
            sheet.column_dimensions[get_column_letter(c)].width = min(60, max(8, longest + 2))
            if name in ("explanation", "need_title", "matched_keywords"):
                for cell in sheet[get_column_letter(c)][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        about = book.create_sheet(_("Columns"))
        # the header people read, what it holds, and the stable column id programs use
        about.append([_("column"), _("meaning"), _("id")])
        for cell in about[1]:
            cell.font = Font(bold=True)
        for label, meaning, name in zip(header, meanings(words), COLUMN_NAMES, strict=True):
            about.append([label, meaning, name])
        about.append([])
        about.append([_("weight"), _("value used"), _("id")])
        for part, value in context.weights.items():
            label = part if words is None or words.code == "en" else _part(part, words)
            about.append([label, value, part])
        about.column_dimensions["A"].width = 24
        about.column_dimensions["B"].width = 90
        about.column_dimensions["C"].width = 18
        # built in memory, then written in one piece: a failing disk then fails the one
        # write, and no half-closed zip archive is left to complain when collected
        whole = io.BytesIO()
        _save(book, whole)
        destination.write(whole.getvalue())


def _save(book: Any, out: IO[bytes]) -> None:
    """``book.save(out)``, a failure to write openpyxl's temporary files (one per sheet,
    on disk) being an :class:`OSError` like any other. Through lxml such a failure is a
    ``SerialisationError`` naming the errno (``IO_ENOSPC``), and the sheet writers it
    leaves half closed complain when collected: they are collected here, quietly."""
    import gc

    failed = None
    try:
        book.save(out)
    except Exception as exc:
        reason = str(exc)
        if not (type(exc).__name__ == "SerialisationError" and reason.startswith("IO_")):
            raise
        failed = reason
    if failed is None:
        return
    code = getattr(errno, failed.removeprefix("IO_"), errno.EIO)
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()  # the failed writers, referenced from no frame any more
    finally:
        sys.unraisablehook = previous
    raise OSError(code, os.strerror(code))


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
    check_destination(Path(path))  # a folder, a device: said before the format
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORTERS:
        raise UsageError(
            N_("cannot tell the format of '{path}' from its extension"),
            N_("use one of {choices}"),
            params={"path": path, "choices": ", ".join(EXPORTERS)},
        )
    return EXPORTERS[suffix]()


def export(
    shortlist: Shortlist,
    path: str,
    dialect: str,
    names: dict[str, tuple[str, str]],
    weights: dict[str, float],
    words: Language | None = None,
    dataset: Dataset | None = None,
) -> int:
    """Write the shortlist to ``path`` (``-`` for standard output); return the rows written.

    Files for people (the excel-fr CSV, the xlsx) are written in ``words``' language when
    ``dataset`` is given for its names; JSON and the rfc4180 CSV are the same in every
    language.
    """
    if dialect not in DIALECTS:
        raise UsageError(
            N_("unknown dialect '{dialect}'"),
            N_("use one of {choices}"),
            params={"dialect": dialect, "choices": ", ".join(DIALECTS)},
        )
    exporter = exporter_for(path)
    suffix = ".csv" if path == "-" else Path(path).suffix.lower()
    for_people = suffix == ".xlsx" or (suffix == ".csv" and dialect != "rfc4180")
    if for_people and words is not None and dataset is not None:
        rows = human_rows(shortlist, names, words, dataset)
    else:
        rows, words = table_rows(shortlist, names), None
    context = ExportContext(
        DIALECTS[dialect], json_records(shortlist, _names(names)), weights, words
    )
    if path == "-":
        exporter.write(rows, sys.stdout.buffer, context)
        sys.stdout.buffer.flush()
        return len(rows)
    with atomic_destination(Path(path)) as stream:
        exporter.write(rows, stream, context)
    return len(rows)
