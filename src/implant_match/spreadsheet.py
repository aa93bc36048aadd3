"""Candidates kept in a spreadsheet -> ``enterprises.yaml``, every bad cell located.

:func:`read_sheet` reads a ``.csv`` (French Excel's ``;`` with a BOM and decimal commas,
or RFC 4180's ``,``, told apart by sniffing) or an ``.xlsx`` (its first sheet) into rows;
:func:`import_enterprises` matches the columns to the fields by their headers (French or
English, case and accents ignored), turns each row into an enterprise record (themes by
id, label or alias of the taxonomy, with suggestions; ids made from names when absent) and
reports every problem as ``FILE:ROW:COLUMN``; :func:`enterprises_yaml` writes records as
YAML whose every text is double-quoted, so French typography never breaks it;
:func:`import_spreadsheet` does it all, writing nothing unless every row is valid.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from implant_match.errors import DataError, Problem, UsageError, closest, suggestion
from implant_match.loading import decode, display_path, read_bytes
from implant_match.messages import N_, Phrase
from implant_match.models import ID_PATTERN, SCHEMA_VERSION, Enterprise, Territory, Theme
from implant_match.text import fold

# field -> the headers that name it (folded: lowercase, no accents, single spaces)
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant"),
    "name": ("nom", "name", "nom de la structure", "structure", "raison sociale"),
    "description": ("description", "activite"),
    "themes": ("themes", "theme", "thematiques"),
    "origin": ("origine", "origin", "ville d origine", "implantation actuelle"),
    "founded": ("creation", "founded", "annee de creation", "date de creation"),
    "legal_form": ("forme juridique", "legal form", "statut juridique", "statut"),
    "website": ("site", "website", "site web", "site internet"),
    "impact": ("impact", "mesure d impact"),
    "keywords": ("mots cles", "mot cle", "keywords"),
    "target_territories": ("territoires vises", "target territories", "territoires"),
}
REQUIRED = ("name", "description", "themes", "origin")
LISTS = ("themes", "keywords", "target_territories")
_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class Sheet:
    """The cells of a spreadsheet as text: its header row and its data rows, numbered as
    the spreadsheet numbers them (the header is row 1)."""

    path: str
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    dialect: str  # excel-fr, rfc4180 or xlsx


@dataclass
class Imported:
    """What an import found: the valid records, every problem, and the rows left out."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    invalid_rows: list[int] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def read_sheet(path: Path) -> Sheet:
    """The rows of a ``.csv`` or ``.xlsx`` file (:class:`DataError` when unreadable)."""
    name = display_path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, name)
    if suffix in (".csv", ".txt"):
        return _read_csv(read_bytes(path, name), name)
    raise UsageError(
        N_("{name}: cannot import a '{kind}' file"),
        N_("save the spreadsheet as .xlsx or .csv"),
        params={"name": name, "kind": suffix or path.name},
    )


_SAVE_AS_UTF8 = N_("save it as 'CSV UTF-8' in your spreadsheet program, or as .xlsx")
# bytes Windows-1252 leaves undefined, and control characters no spreadsheet writes
_NOT_CP1252 = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x81\x8d\x8f\x90\x9d]")


def decode_csv(raw: bytes, name: str) -> str:
    """The text of a CSV file: UTF-8 (a BOM is accepted), or Windows-1252 as French Excel's
    "CSV (séparateur: point-virgule)" saves it; UTF-16 or UTF-32 (Excel's "Unicode text"),
    or bytes that are neither, are a :class:`DataError` saying how to save the file."""
    return decode(raw, name, hint=_SAVE_AS_UTF8, fallback=_windows_1252)


def _windows_1252(raw: bytes) -> str | None:
    return None if _NOT_CP1252.search(raw) else raw.decode("cp1252")


def _read_csv(raw: bytes, name: str) -> Sheet:
    text = decode_csv(raw, name)
    first = text.split("\n", 1)[0]
    excel_fr = raw.startswith(b"\xef\xbb\xbf") or first.count(";") > first.count(",")
    delimiter = ";" if excel_fr else ","
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not table:
        raise DataError([Problem(name, 0, 0, "error", N_("the spreadsheet is empty"))])
    rows = tuple((n, tuple(r)) for n, r in enumerate(table[1:], 2) if any(c.strip() for c in r))
    return Sheet(name, tuple(table[0]), rows, "excel-fr" if excel_fr else "rfc4180")


def _read_xlsx(path: Path, name: str) -> Sheet:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise DataError([Problem(name, 0, 0, "error", N_("no such file"))]) from None
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        message = N_("cannot read the spreadsheet ({kind})")
        problem = Problem(name, 0, 0, "error", message, params={"kind": type(exc).__name__})
        raise DataError([problem]) from None
    try:
        sheet = book.worksheets[0]
        table = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not table:
        raise DataError([Problem(name, 0, 0, "error", N_("the spreadsheet is empty"))])
    rows = tuple((n, tuple(r)) for n, r in enumerate(table[1:], 2) if any(c.strip() for c in r))
    return Sheet(name, tuple(table[0]), rows, "xlsx")


def _cell_text(value: Any) -> str:
    """A cell as the text it shows: a whole float without its ``.0``, a date's year."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "year") and hasattr(value, "month"):
        return str(value.year)
    return str(value)


def header_key(header: str) -> str:
    """A header folded for matching: lowercase, no accents, words separated by a space."""
    return " ".join(re.split(r"[\s_\-'’]+", fold(header).strip())).strip()


def map_columns(sheet: Sheet) -> tuple[dict[str, int], list[Problem]]:
    """Field -> column index, and the problems of the header row (missing fields, columns
    named twice, columns that name no field)."""
    known = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for index, header in enumerate(sheet.headers):
        if not header.strip():
            continue
        field_name = known.get(header_key(header))
        if field_name is None:
            problems.append(
                Problem(
                    sheet.path,
                    1,
                    index + 1,
                    "warning",
                    N_("column '{header}' matches no field: it is left out"),
                    N_("name it one of: {names}"),
                    {"header": header, "names": ", ".join(HEADERS[f][0] for f in HEADERS)},
                )
            )
        elif field_name in columns:
            problems.append(
                Problem(
                    sheet.path,
                    1,
                    index + 1,
                    "error",
                    N_(
                        "column '{header}' gives '{field}' a second time "
                        "(column {first} already does)"
                    ),
                    params={
                        "header": header,
                        "field": field_name,
                        "first": columns[field_name] + 1,
                    },
                )
            )
        else:
            columns[field_name] = index
    for name in REQUIRED:
        if name not in columns:
            problems.append(
                Problem(
                    sheet.path,
                    1,
                    0,
                    "error",
                    N_("no column for '{field}'"),
                    N_("add a column headed '{header}' (or '{other}')"),
                    {"field": name, "header": HEADERS[name][0], "other": HEADERS[name][1]},
                )
            )
    return columns, problems


def split_list(text: str) -> list[str]:
    """Items of a cell: separated by ``;``, ``|`` or line breaks, else by commas."""
    parts = re.split(r"[;|\n]", text) if re.search(r"[;|\n]", text) else text.split(",")
    return [p.strip() for p in parts if p.strip()]


def slug(text: str) -> str:
    """An id made from a name: ``Les Petits Frères`` -> ``les-petits-freres``."""
    chars = [c if c.isalnum() else "-" for c in fold(text).replace("œ", "oe").replace("æ", "ae")]
    return "-".join(p for p in "".join(chars).split("-") if p)[:120].strip("-")


class _Resolver:
    """Theme and territory ids from what a cell says: an id, a label, an alias, a name."""

    def __init__(self, themes: Iterable[Theme], territories: Iterable[Territory] | None) -> None:
        self.themes = {t.id: t for t in themes}
        self.theme_names: dict[str, str] = {}
        # an id first, then a label, then an alias ("IAE" is an alias of a broader theme)
        for forms in (
            [(t.id, t.id) for t in self.themes.values()],
            [(t.label, t.id) for t in self.themes.values()],
            [(a, t.id) for t in self.themes.values() for a in t.aliases],
        ):
            for text, theme_id in forms:
                self.theme_names.setdefault(fold(text), theme_id)
        self.territories = None if territories is None else {t.id: t for t in territories}
        self.territory_names = {fold(t.name): t.id for t in (self.territories or {}).values()} | {
            fold(t): t for t in (self.territories or {})
        }

    def theme(self, text: str) -> tuple[str | None, Phrase]:
        """(id, an empty phrase) or (None, the message)."""
        found = self.theme_names.get(fold(text))
        if found is not None:
            return found, Phrase("")
        labels = {t.label: t.id for t in self.themes.values()}
        guess = closest(text, [*self.themes, *labels])
        hint: Phrase | str = ""
        if guess is not None:
            theme_id = labels.get(guess, guess)
            hint = Phrase.of(
                N_("; did you mean '{match}' ({label})?"),
                match=theme_id,
                label=self.themes[theme_id].label,
            )
        return None, Phrase.of(N_("unknown theme '{id}'{suggestion}"), id=text, suggestion=hint)

    def territory(self, text: str) -> tuple[str | None, Phrase]:
        if self.territories is None:
            if _ID.fullmatch(text):
                return text, Phrase("")
            return None, Phrase.of(
                N_("'{text}' is not a territory id; did you mean '{match}'?"),
                text=text,
                match=slug(text),
            )
        found = self.territory_names.get(fold(text))
        if found is not None:
            return found, Phrase("")
        return None, Phrase.of(
            N_("unknown territory '{id}'{suggestion}"),
            id=text,
            suggestion=suggestion(text, [*self.territories]),
        )


def import_enterprises(
    sheet: Sheet,
    themes: Iterable[Theme],
    territories: Iterable[Territory] | None = None,
    taken: Mapping[str, str] | None = None,
) -> Imported:
    """The enterprise records of ``sheet``, valid row by row, and every located problem.

    ``themes`` are those cells may name (by id, label or alias); ``territories`` those
    ``target_territories`` may name (None: any well-formed id); ``taken`` maps ids already
    used elsewhere (another file) to where, so that an id made from a name says so.
    """
    result = Imported()
    columns, header_problems = map_columns(sheet)
    result.problems.extend(header_problems)
    if any(p.is_error for p in header_problems):
        return result
    resolve = _Resolver(themes, territories)
    seen: dict[str, int] = {}
    for number, cells in sheet.rows:
        problems: list[Problem] = []

        def cell(name: str, cells: Sequence[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        def fail(
            name: str,
            message: Phrase,
            hint: str | None = None,
            row: int = number,
            problems: list[Problem] = problems,
        ) -> None:
            column = columns.get(name, -1) + 1
            params = dict(message.params)
            problems.append(
                Problem(sheet.path, row, column, "error", message.template, hint, params)
            )

        record: dict[str, Any] = {}
        for name in ("name", "description", "origin", "legal_form", "website", "impact"):
            if cell(name):
                record[name] = cell(name)
        for name in REQUIRED:
            if name != "themes" and not cell(name):
                fail(name, Phrase.of(N_("{field}: the cell is empty"), field=name))
        record_id = cell("id") or slug(cell("name"))
        if cell("id") and not _ID.fullmatch(record_id):
            fail(
                "id",
                Phrase.of(
                    N_("id: '{id}' is not a valid id; did you mean '{match}'?"),
                    id=record_id,
                    match=slug(record_id),
                ),
            )
        elif record_id in seen:
            fail(
                "id" if cell("id") else "name",
                Phrase.of(
                    N_("id '{id}' is already the id of row {row}"),
                    id=record_id,
                    row=seen[record_id],
                ),
                N_("give each enterprise its own id in an 'id' column"),
            )
        elif record_id:
            seen[record_id] = number
        record = {"id": record_id, **record}
        theme_ids = []
        for text in split_list(cell("themes")):
            theme_id, message = resolve.theme(text)
            if theme_id is None:
                fail("themes", message, N_("`implant-match themes WORD` lists the themes"))
            elif theme_id not in theme_ids:
                theme_ids.append(theme_id)
        if not cell("themes"):
            fail(
                "themes",
                Phrase.of(N_("{field}: the cell is empty"), field="themes"),
                N_("name at least one theme"),
            )
        record["themes"] = theme_ids
        if cell("keywords"):
            record["keywords"] = split_list(cell("keywords"))
        if cell("founded"):
            year = cell("founded").replace(",", ".")
            try:
                value = float(year)
            except ValueError:
                value = -1.0
            if not value.is_integer() or not 1800 <= value <= 2100:
                fail(
                    "founded",
                    Phrase.of(
                        N_("founded: '{value}' is not a year (four digits)"),
                        value=cell("founded"),
                    ),
                )
            else:
                record["founded"] = int(value)
        if cell("target_territories"):
            targets = []
            for text in split_list(cell("target_territories")):
                territory_id, message = resolve.territory(text)
                if territory_id is None:
                    fail("target_territories", message)
                elif territory_id not in targets:
                    targets.append(territory_id)
            record["target_territories"] = targets
        if not problems:
            problems.extend(_model_problems(sheet.path, number, columns, record))
        if problems:
            result.problems.extend(problems)
            result.invalid_rows.append(number)
        else:
            result.records.append(record)
    return result


def _model_problems(
    path: str, row: int, columns: Mapping[str, int], record: dict[str, Any]
) -> list[Problem]:
    """What the model still refuses (a text too long...), located at its column."""
    from implant_match.validation import error_phrase

    try:
        Enterprise.model_validate(record)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            column = columns.get(name, -1) + 1
            params = {"field": name, "reason": error_phrase(error)}
            out.append(Problem(path, row, column, "error", N_("{field}: {reason}"), None, params))
        return out
    return []


def merge_records(
    existing: Sequence[dict[str, Any]], imported: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int, int]:
    """``existing`` with the ``imported`` records replacing those of the same id and the
    others added at the end; and how many were added and replaced."""
    by_id = {r["id"]: r for r in imported}
    replaced = 0
    merged = []
    for record in existing:
        new = by_id.pop(record.get("id"), None) if isinstance(record, dict) else None
        replaced += new is not None
        merged.append(new if new is not None else record)
    merged.extend(r for r in imported if r["id"] in by_id)
    return merged, len(by_id), replaced


_ORDER = (
    "id",
    "name",
    "description",
    "themes",
    "keywords",
    "origin",
    "founded",
    "target_territories",
    "legal_form",
    "website",
    "impact",
)


def enterprises_yaml(records: Sequence[Mapping[str, Any]], header: str = "") -> str:
    """An ``enterprises.yaml`` text: every text double-quoted (JSON escapes are valid YAML
    double-quoted escapes), ids in flow lists, fields in the documented order."""
    lines = [header.rstrip("\n")] if header.strip() else []
    lines += [f"schema_version: {SCHEMA_VERSION}", "", "enterprises:"]
    if not records:
        lines[-1] = "enterprises: []"
    for record in records:
        keys = [k for k in _ORDER if k in record] + [k for k in record if k not in _ORDER]
        for n, key in enumerate(keys):
            lead = "  - " if n == 0 else "    "
            lines.append(f"{lead}{key}: {_yaml_value(record[key])}")
    return "\n".join(lines) + "\n"


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


@dataclass
class ImportOutcome:
    """An import done: what was found, and what was written where."""

    imported: Imported
    target: Path
    written: int  # enterprises in the file written
    added: int
    replaced: int


def import_spreadsheet(
    source: Path,
    target: Path,
    needs: Path | None = None,
    *,
    merge: bool = False,
    skip_invalid: bool = False,
) -> ImportOutcome:
    """Import ``source`` into ``target``, written atomically, or raise.

    Nothing is written when a row is invalid (:class:`DataError` with every problem),
    unless ``skip_invalid``: the valid rows are then written and the outcome lists the
    others. An existing ``target`` is merged by id only with ``merge``. Themes may be
    named as in the shipped taxonomy or in ``needs``; target territories must be those
    of ``needs`` when it is given.
    """
    from implant_match.files import write_text

    if target.exists() and not merge:
        raise ExistingTargetError(target)
    themes, territories = _project(needs)
    sheet = read_sheet(source)
    imported = import_enterprises(sheet, themes, territories)
    if imported.errors and (_header_failed(imported) or not skip_invalid or not imported.records):
        raise DataError(imported.problems)
    existing, header = _existing(target) if target.exists() else ([], "")
    records, added, replaced = merge_records(existing, imported.records)
    write_text(target, enterprises_yaml(records, header))
    return ImportOutcome(imported, target, len(records), added, replaced)


def _header_failed(imported: Imported) -> bool:
    return any(p.is_error and p.line == 1 for p in imported.problems)


class ExistingTargetError(DataError):
    """An import would overwrite a file without ``--merge``."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            [
                Problem(
                    display_path(path),
                    0,
                    0,
                    "error",
                    N_("already exists: nothing was written"),
                    N_("pass --merge to merge the rows into it by id"),
                )
            ]
        )


def _project(needs: Path | None) -> tuple[tuple[Theme, ...], tuple[Territory, ...] | None]:
    """The themes cells may name and the territories they may target."""
    from implant_match.taxonomy import load_taxonomy, merge_themes

    if needs is None:
        return load_taxonomy().themes, None
    from implant_match.loading import load_document
    from implant_match.models import NeedsFile
    from implant_match.validation import validate_schema

    needs_file, problems = validate_schema(load_document(needs, display_path(needs)), NeedsFile)
    errors = [p for p in problems if p.is_error]
    if needs_file is None or errors:
        raise DataError(errors)
    return merge_themes(needs_file.themes), needs_file.territories


def _existing(target: Path) -> tuple[list[dict[str, Any]], str]:
    """The records of an existing candidate file, and its leading comment lines."""
    from implant_match.loading import load_document

    document = load_document(target, display_path(target))
    data = document.data
    records = data.get("enterprises") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise DataError(
            [
                document.source.problem(
                    (), N_("expected a candidate file with an 'enterprises' list")
                )
            ]
        )
    text = target.read_text(encoding="utf-8-sig")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    return records, "\n".join(header)
