"""``implant-match export``: the pairs ``rank`` shows, as CSV, JSON or Excel, safe to open.

Every format is read back (csv module, json, openpyxl) and compared with
``rank --format json`` run with the same options. The CSV bytes of both dialects are pinned
by golden files in ``tests/golden/``; after a deliberate change of the output (or of the
scores of the small dataset they come from), rewrite them with::

    IMPLANT_MATCH_UPDATE_GOLDEN=1 python -m pytest tests/test_export.py -k golden

then review ``git diff tests/golden`` before committing.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from implant_match import export as export_module
from implant_match.cli import app
from implant_match.dataset import DataPaths
from implant_match.weights import Weights

from .factories import enterprises_document, needs_document, write_dataset

GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("IMPLANT_MATCH_UPDATE_GOLDEN") == "1"
BOM = b"\xef\xbb\xbf"

PARTS = ["themes", "text", "keywords", "meaning", "complementarity"]
# spelled out from the requirements, not imported, so that a reordering is caught
COLUMNS = [
    "need_id",
    "need_title",
    "territory",
    "priority",
    "rank",
    "enterprise_id",
    "enterprise_name",
    "origin",
    "score",
    *PARTS,
    "stability",
    "matched_themes",
    "matched_keywords",
    "partners",
    "competitors",
    "explanation",
    # the selection's columns (issue 20), added at the end
    "status",
    "note",
    "present",
    "extra",
    "need_extra",
]
NUMBERS = {"rank", "score", *PARTS, "stability"}
LISTS = ("matched_themes", "matched_keywords", "partners", "competitors")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SEPARATOR = {"excel-fr": ";", "rfc4180": ","}
DECIMAL = {"excel-fr": ",", "rfc4180": "."}


# running the command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def message(self) -> str:
        """stderr with rich's line wrapping undone (for messages, not for the summary line)."""
        return " ".join(self.stderr.split())


CliFn = Callable[..., Run]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder: exports are given short relative paths."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def cli(work: Path, monkeypatch: pytest.MonkeyPatch) -> CliFn:
    """``cli("export", "out.csv", "--top", "2", data=paths)`` through typer's runner."""
    monkeypatch.delenv("IMPLANT_MATCH_MAX_BYTES", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")  # the width of a log file or a CI console

    def run(*args: str, data: DataPaths | None = None) -> Run:
        full = list(args)
        if data is not None:
            full += ["--needs", str(data.needs), "--enterprises", str(data.enterprises)]
        try:
            result = CliRunner().invoke(app, full)
        except KeyboardInterrupt:  # not caught by the CLI: fail this test, not the session
            pytest.fail("KeyboardInterrupt escaped the command")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a crash the CLI did not turn into a message
        done = Run(result.exit_code, result.stdout_bytes, result.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


def export_ok(cli: CliFn, path: str, *options: str, data: DataPaths) -> bytes:
    """Run a successful export to a file and return the file's bytes."""
    run = cli("export", path, *options, data=data)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == b"", "a file export prints nothing on stdout"
    return Path(path).read_bytes()


def rank_json(cli: CliFn, *options: str, data: DataPaths) -> tuple[bytes, list[dict[str, Any]]]:
    run = cli("rank", "--format", "json", *options, data=data)
    assert run.exit_code == 0, run.stderr
    return run.stdout, json.loads(run.stdout)


# datasets -----------------------------------------------------------------------------------


def varied_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """Four needs on two territories, four enterprises, a partner and a competitor."""
    needs = needs_document()
    needs["territories"][0]["local_actors"].append(
        {
            "id": "epicerie-croix-rousse",
            "name": "Épicerie de la Croix-Rousse",
            "themes": ["aide-alimentaire"],
            "description": "Épicerie solidaire et colis alimentaires pour les familles précaires.",
        }
    )
    needs["needs"] += [
        {
            "id": "epicerie-lyon",
            "territory": "lyon",
            "title": "Épicerie solidaire",
            "description": "Une épicerie solidaire pour les étudiants précaires.",
            "themes": ["aide-alimentaire"],
            "keywords": ["épicerie solidaire"],
            "priority": "low",
        },
        {
            "id": "velo-grenoble",
            "territory": "grenoble",
            "title": "Ateliers vélo",
            "description": "Réparer les vélos des habitants.",
            "themes": ["mobilites"],
            "keywords": ["réparation"],
            "priority": "high",
        },
    ]
    enterprises = enterprises_document()
    enterprises["enterprises"].append(
        {
            "id": "panier",
            "name": "Panier Partagé",
            "origin": "Lille",
            "description": "Épicerie solidaire et colis alimentaires pour les familles précaires.",
            "themes": ["aide-alimentaire"],
        }
    )
    return needs, enterprises


def golden_enterprises() -> dict[str, Any]:
    """The factories' enterprises, two renamed so the golden files pin quoting and `'`."""
    document = enterprises_document()
    document["enterprises"][1]["name"] = 'Cantine "Solidaire"; Été'
    document["enterprises"][2]["name"] = "@Vélo Pour Tous"
    return document


def names_of(enterprises: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {e["id"]: (e["name"], e["origin"]) for e in enterprises["enterprises"]}


@pytest.fixture
def varied(tmp_path: Path) -> tuple[DataPaths, dict[str, tuple[str, str]]]:
    needs, enterprises = varied_documents()
    paths = write_dataset(tmp_path / "data", needs=needs, enterprises=enterprises)
    (tmp_path / "data" / "weights.yaml").write_text(
        "themes: 1\ntext: 0\nkeywords: 1\ncomplementarity: 0.3\n", encoding="utf-8"
    )
    return paths, names_of(enterprises)


@pytest.fixture
def small(tmp_path: Path) -> DataPaths:
    return write_dataset(tmp_path / "small")


# reading exports back -----------------------------------------------------------------------


def expected_rows(
    records: list[dict[str, Any]], names: dict[str, tuple[str, str]], stability_tolerance: float
) -> list[dict[str, Any]]:
    """What each format must hold, built from ``rank --format json`` and the data files."""
    rows = []
    for record in records:
        name, origin = names[record["enterprise_id"]]
        row: dict[str, Any] = {
            key: record[key]
            for key in ("need_id", "need_title", "territory", "priority", "rank", "enterprise_id")
        }
        row["enterprise_name"] = name
        row["origin"] = origin
        row["score"] = pytest.approx(record["score"], abs=1e-9)
        for part in PARTS:
            row[part] = pytest.approx(record["components"][part], abs=1e-9)
        stability = record["stability"]
        row["stability"] = (
            None if stability is None else pytest.approx(stability, abs=stability_tolerance)
        )
        for key in LISTS:
            row[key] = " | ".join(record[key])
        row["explanation"] = " ".join(record["reasons"])
        row["status"] = record["status"] or ""
        row["note"] = record["note"] or ""
        row["present"] = "yes" if record["present"] else ""
        row["extra"] = " | ".join(f"{k}: {v}" for k, v in record["extra"].items())
        row["need_extra"] = " | ".join(f"{k}: {v}" for k, v in record["need_extra"].items())
        rows.append(row)
    return rows


def unquote(text: str) -> str:
    """Undo the formula guard: the `'` added in front of text a spreadsheet would run."""
    if text.startswith("'") and text[1:].lstrip(" ").startswith(FORMULA_STARTS):
        return text[1:]
    return text


def read_csv(data: bytes, dialect: str) -> tuple[list[str], list[list[str]]]:
    """Header and raw cells, checking the encoding marks of the dialect."""
    if dialect == "excel-fr":
        assert data.startswith(BOM), "excel-fr starts with a UTF-8 BOM"
        text = data[len(BOM) :].decode("utf-8")
    else:
        assert not data.startswith(BOM), "rfc4180 has no BOM"
        text = data.decode("utf-8")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR[dialect]))
    return lines[0], lines[1:]


def csv_rows(data: bytes, dialect: str) -> list[dict[str, Any]]:
    """Typed rows: decimal mark of the dialect, empty number = None, formula guard undone."""
    header, lines = read_csv(data, dialect)
    assert header == COLUMNS
    decimal = DECIMAL[dialect]
    other = "." if decimal == "," else ","
    rows = []
    for cells in lines:
        assert len(cells) == len(COLUMNS), cells
        row: dict[str, Any] = {}
        for name, cell in zip(COLUMNS, cells, strict=True):
            if name == "rank":
                row[name] = int(cell)
            elif name in NUMBERS:
                assert other not in cell, f"{name}={cell!r}: wrong decimal mark for {dialect}"
                row[name] = None if cell == "" else float(cell.replace(decimal, "."))
            else:
                row[name] = unquote(cell)
        rows.append(row)
    return rows


def xlsx_rows(data: bytes) -> list[dict[str, Any]]:
    """Typed rows of the first sheet; numbers must be stored as numbers, text as text."""
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    lines = list(sheet.iter_rows())
    assert [c.value for c in lines[0]] == COLUMNS
    rows = []
    for cells in lines[1:]:
        row: dict[str, Any] = {}
        for name, cell in zip(COLUMNS, cells, strict=True):
            if name in NUMBERS:
                if cell.value is not None or name != "stability":
                    assert cell.data_type == "n", (name, cell.value, cell.data_type)
                    assert isinstance(cell.value, int | float), (name, cell.value)
                if name == "rank":
                    assert isinstance(cell.value, int)
                row[name] = cell.value
            else:
                assert cell.value is None or cell.data_type == "s", (name, cell.data_type)
                row[name] = "" if cell.value is None else cell.value
        rows.append(row)
    return rows


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def leftovers(folder: Path) -> list[str]:
    """Temporary files an export could have left behind."""
    return sorted(n for n in os.listdir(folder) if n.endswith(".part") or n.startswith("."))


# same pairs as rank -------------------------------------------------------------------------

OPTION_SETS = {
    "top-2": ["--top", "2", "--no-stability"],
    "need": ["--need", "fle-lyon", "--need", "epicerie-lyon", "--no-stability"],
    "territory": ["--territory", "grenoble", "--top", "3", "--no-stability"],
    "theme": ["--theme", "alimentation", "--top", "4", "--no-stability"],
    "enterprise": ["--enterprise", "panier", "--top", "3", "--no-stability"],
    "min-score": ["--min-score", "50", "--top", "10", "--no-stability"],
    "weight": ["--weight", "themes=0.1", "--weight", "complementarity=0.5", "--no-stability"],
    "weights-file": ["--weights", "{weights}", "--top", "3", "--no-stability"],
    "defaults-with-stability": [],
}


@pytest.mark.parametrize(
    ("options", "dialect"),
    # one CSV dialect per option set, in turn (test_dialects_differ_only_as_documented
    # checks that both hold the same rows)
    [(o, ("excel-fr", "rfc4180")[i % 2]) for i, o in enumerate(OPTION_SETS.values())],
    ids=list(OPTION_SETS),
)
def test_every_format_holds_the_pairs_rank_shows(
    cli: CliFn,
    varied: tuple[DataPaths, dict[str, tuple[str, str]]],
    options: list[str],
    dialect: str,
) -> None:
    paths, names = varied
    options = [o.replace("{weights}", str(paths.needs.parent / "weights.yaml")) for o in options]
    document, records = rank_json(cli, *options, data=paths)
    assert records, "each option set keeps some pairs"

    exported_json = export_ok(cli, "out.json", *options, data=paths)
    assert exported_json == document, "the .json export is the `rank --format json` document"
    assert json.loads(exported_json) == records

    data = export_ok(cli, "out.csv", "--dialect", dialect, *options, data=paths)
    # CSV numbers have two decimals; stability has three in JSON
    assert csv_rows(data, dialect) == expected_rows(records, names, 0.005 + 1e-9), dialect

    workbook = export_ok(cli, "out.xlsx", *options, data=paths)
    assert xlsx_rows(workbook) == expected_rows(records, names, 1e-9)


def test_score_is_the_sum_of_the_part_columns(
    cli: CliFn, varied: tuple[DataPaths, dict[str, tuple[str, str]]]
) -> None:
    paths, _ = varied
    rows = csv_rows(
        export_ok(cli, "out.csv", "--top", "10", "--no-stability", data=paths), "excel-fr"
    )
    assert any(row["complementarity"] < 0 for row in rows), "the dataset has a competitor"
    for row in rows:
        # each column is rounded to 2 decimals on its own
        assert row["score"] == pytest.approx(sum(row[p] for p in PARTS), abs=0.03), row


def test_lists_are_joined_with_a_spaced_bar(
    cli: CliFn, varied: tuple[DataPaths, dict[str, tuple[str, str]]]
) -> None:
    paths, _ = varied
    rows = csv_rows(
        export_ok(cli, "out.csv", "--need", "fle-lyon", "--top", "2", "--no-stability", data=paths),
        "excel-fr",
    )
    assert rows[0]["matched_keywords"] == "FLE | cours de français"
    assert rows[0]["partners"] == "singa"
    assert rows[1]["competitors"] == "epicerie-croix-rousse"


def test_no_pair_left_writes_the_header_alone(
    cli: CliFn, varied: tuple[DataPaths, dict[str, tuple[str, str]]]
) -> None:
    paths, _ = varied
    options = ("--need", "fle-lyon", "--min-score", "100", "--no-stability")
    run = cli("export", "out.csv", *options, data=paths)
    assert run.exit_code == 0, run.stderr
    assert run.stderr.strip() == "wrote 0 rows to out.csv (csv, dialect excel-fr)"
    assert Path("out.csv").read_bytes() == BOM + ";".join(COLUMNS).encode() + b"\r\n"
    assert xlsx_rows(export_ok(cli, "out.xlsx", *options, data=paths)) == []
    assert json.loads(export_ok(cli, "out.json", *options, data=paths)) == []


# CSV bytes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "golden"),
    [("excel-fr", "export_excel_fr.csv"), ("rfc4180", "export_rfc4180.csv")],
)
def test_csv_bytes_match_the_golden_file(
    cli: CliFn, tmp_path: Path, dialect: str, golden: str
) -> None:
    paths = write_dataset(tmp_path / "golden", enterprises=golden_enterprises())
    options = ("--top", "2", "--no-stability", "--dialect", dialect)
    data = export_ok(cli, "out.csv", *options, data=paths)
    target = GOLDEN / golden
    if UPDATE_GOLDEN:
        GOLDEN.mkdir(exist_ok=True)
        target.write_bytes(data)
        pytest.skip(f"rewrote {target}")
    assert target.is_file(), f"missing {target}: run with IMPLANT_MATCH_UPDATE_GOLDEN=1"
    expected = target.read_bytes()
    assert data.splitlines(keepends=True) == expected.splitlines(keepends=True)
    assert data == expected


@pytest.mark.parametrize("dialect", ["excel-fr", "rfc4180"])
def test_golden_files_have_the_dialect_marks(dialect: str) -> None:
    """Guards the golden files themselves, so a careless rewrite cannot pin wrong bytes."""
    name = {"excel-fr": "export_excel_fr.csv", "rfc4180": "export_rfc4180.csv"}[dialect]
    data = (GOLDEN / name).read_bytes()
    sep = SEPARATOR[dialect].encode()
    assert data.startswith(BOM) is (dialect == "excel-fr")
    body = data.removeprefix(BOM)
    assert body.startswith(sep.join(c.encode() for c in COLUMNS) + b"\r\n")
    assert body.endswith(b"\r\n")
    assert body.count(b"\n") == body.count(b"\r\n") == 5, "CRLF after the header and 4 rows"
    assert re.search(rb"\r\n", body) and not re.search(rb"[^\r]\n", body)
    number = rb"-?\d+,\d{2,3}" if dialect == "excel-fr" else rb"-?\d+\.\d{2,3}"
    assert re.search(sep + number + sep, body)
    assert len(csv_rows(data, dialect)) == 4  # checks the decimal mark of every number
    quoted = '"Cantine ""Solidaire""; Été"'.encode()
    assert quoted in body, "a name with ; and quotes is quoted, quotes doubled"
    assert sep + "'@Vélo Pour Tous".encode() + sep in body
    assert "Été" in body.decode("utf-8"), "UTF-8 text"


def test_dialects_differ_only_as_documented(cli: CliFn, small: DataPaths) -> None:
    options = ("--top", "2", "--no-stability")
    excel = export_ok(cli, "fr.csv", *options, data=small)
    assert excel == export_ok(cli, "default.csv", "--dialect", "excel-fr", *options, data=small)
    rfc = export_ok(cli, "rfc.csv", "--dialect", "rfc4180", *options, data=small)
    assert excel.startswith(BOM) and not rfc.startswith(BOM)
    assert excel.count(b"\r\n") == rfc.count(b"\r\n") == excel.count(b"\n") == 5
    assert csv_rows(excel, "excel-fr") == csv_rows(rfc, "rfc4180")


def test_unknown_dialect_is_a_usage_error(cli: CliFn, small: DataPaths) -> None:
    run = cli("export", "out.csv", "--dialect", "excel-us", "--no-stability", data=small)
    assert run.exit_code == 2
    assert "unknown dialect 'excel-us'" in run.message
    assert "excel-fr" in run.message and "rfc4180" in run.message
    assert not Path("out.csv").exists()


# awkward text -------------------------------------------------------------------------------

AWKWARD = {
    "langues": ('Langues; "Ensemble"', 'Paris "intra-muros"'),
    "cantine": ("Cantine\nSolidaire", "Saint-Étienne; Loire"),
    "velo": ("Vélo — Œuvre à Pâques, ça roule", "Strasbourg, Alsace"),
}


@pytest.fixture
def awkward(tmp_path: Path) -> tuple[DataPaths, dict[str, tuple[str, str]], dict[str, str]]:
    enterprises = enterprises_document()
    for enterprise in enterprises["enterprises"]:
        enterprise["name"], enterprise["origin"] = AWKWARD[enterprise["id"]]
    needs = needs_document()
    needs["needs"][0]["title"] = 'Cours de "français"; réfugiés'
    needs["needs"][1]["title"] = "Repas, solidaires\nen été"
    titles = {n["id"]: n["title"] for n in needs["needs"]}
    paths = write_dataset(tmp_path / "awkward", needs=needs, enterprises=enterprises)
    return paths, names_of(enterprises), titles


@pytest.mark.parametrize("target", ["excel-fr", "rfc4180", "xlsx"])
def test_awkward_text_survives_a_round_trip(
    cli: CliFn,
    awkward: tuple[DataPaths, dict[str, tuple[str, str]], dict[str, str]],
    target: str,
) -> None:
    paths, names, titles = awkward
    options = ("--top", "3", "--no-stability")
    _, records = rank_json(cli, *options, data=paths)
    if target == "xlsx":
        rows = xlsx_rows(export_ok(cli, "out.xlsx", *options, data=paths))
    else:
        data = export_ok(cli, "out.csv", "--dialect", target, *options, data=paths)
        rows = csv_rows(data, target)
    assert len(rows) == len(records) == 5, "a line break inside a name does not split a row"
    assert rows == expected_rows(records, names, 1e-9)
    assert {r["enterprise_id"]: (r["enterprise_name"], r["origin"]) for r in rows} == names
    assert {r["need_id"]: r["need_title"] for r in rows} == titles


# formula injection (CWE-1236) ---------------------------------------------------------------

HOSTILE = {
    "langues": ('=HYPERLINK("http://x","clic")', "Paris"),
    "cantine": ("+33 1 23 45 67 89", "-Nantes"),
    "velo": ("@SUM(1+1)", "Strasbourg=Alsace"),
}


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[DataPaths, dict[str, tuple[str, str]]]:
    enterprises = enterprises_document()
    for enterprise in enterprises["enterprises"]:
        enterprise["name"], enterprise["origin"] = HOSTILE[enterprise["id"]]
    needs = needs_document()
    needs["needs"][1]["title"] = "-1 repas"
    paths = write_dataset(tmp_path / "hostile", needs=needs, enterprises=enterprises)
    return paths, names_of(enterprises)


@pytest.mark.parametrize("dialect", ["excel-fr", "rfc4180"])
def test_csv_guards_text_a_spreadsheet_would_run(
    cli: CliFn, hostile: tuple[DataPaths, dict[str, tuple[str, str]]], dialect: str
) -> None:
    paths, _ = hostile
    data = export_ok(cli, "out.csv", "--dialect", dialect, "--top", "3", data=paths)
    header, lines = read_csv(data, dialect)
    cells = [dict(zip(header, line, strict=True)) for line in lines]
    by_id = {c["enterprise_id"]: c for c in cells}
    assert by_id["langues"]["enterprise_name"] == "'" + '=HYPERLINK("http://x","clic")'
    assert by_id["cantine"]["enterprise_name"] == "'+33 1 23 45 67 89"
    assert by_id["cantine"]["origin"] == "'-Nantes"
    assert by_id["velo"]["enterprise_name"] == "'@SUM(1+1)"
    assert by_id["velo"]["origin"] == "Strasbourg=Alsace", "only a leading sign is guarded"
    assert by_id["langues"]["origin"] == "Paris"
    assert {c["need_title"] for c in cells if c["need_id"] == "repas-grenoble"} == {"'-1 repas"}
    number = re.compile(r"-?\d+" + re.escape(DECIMAL[dialect]) + r"\d{2,3}")
    for cell in cells:
        assert re.fullmatch(r"\d+", cell["rank"])
        for name in ("score", *PARTS, "stability"):
            assert number.fullmatch(cell[name]), f"number {name}={cell[name]!r} untouched"
    for cell in cells:
        for name in COLUMNS:
            if name not in NUMBERS:
                text = cell[name]
                assert not text.lstrip(" ").startswith(FORMULA_STARTS), (name, text)


def test_xlsx_keeps_hostile_text_as_plain_text(
    cli: CliFn, hostile: tuple[DataPaths, dict[str, tuple[str, str]]]
) -> None:
    paths, names = hostile
    data = export_ok(cli, "out.xlsx", "--top", "3", "--no-stability", data=paths)
    xml = sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml, "no cell is stored as a formula"
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    column = {name: i for i, name in enumerate(COLUMNS)}
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 5
    for cells in rows:
        enterprise = cells[column["enterprise_id"]].value
        name_cell = cells[column["enterprise_name"]]
        origin_cell = cells[column["origin"]]
        assert (name_cell.value, origin_cell.value) == names[enterprise], "text unchanged"
        assert name_cell.data_type == "s" and origin_cell.data_type == "s"
        title = cells[column["need_title"]]
        assert title.data_type == "s" and not str(title.value).startswith("'")
        assert isinstance(cells[column["complementarity"]].value, int | float)


def _row(**text: str) -> dict[str, Any]:
    """A table row for calling an exporter directly."""
    row: dict[str, Any] = {name: "x" for name in COLUMNS if name not in NUMBERS}
    row.update({"rank": 1, "score": -3.5, **dict.fromkeys(PARTS, -0.25), "stability": None})
    row.update(text)
    return row


def _context(dialect: str = "excel-fr") -> Any:
    return export_module.ExportContext(
        export_module.DIALECTS[dialect], [], {"themes": 0.4, "text": 0.35, "keywords": 0.25}
    )


# leading spaces, tab and CR cannot come from the data files (text fields are stripped
# there), so these go straight to the exporters
GUARDED = ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "  =1+1", "   @A1", " \t=1", "  -2", " +3"]
UNGUARDED = ["a=b", "1-2", "x @y", "", "   ", "'quoted", "é=1"]


@pytest.mark.parametrize("dialect", ["excel-fr", "rfc4180"])
def test_csv_exporter_guards_every_formula_start(dialect: str) -> None:
    rows = [_row(enterprise_name=text, explanation=text) for text in GUARDED + UNGUARDED]
    buffer = io.BytesIO()
    export_module.CsvExporter().write(rows, buffer, _context(dialect))
    header, lines = read_csv(buffer.getvalue(), dialect)
    got = [dict(zip(header, line, strict=True)) for line in lines]
    for text, cells in zip(GUARDED + UNGUARDED, got, strict=True):
        expected = "'" + text if text in GUARDED else text
        assert cells["enterprise_name"] == expected, repr(text)
        assert cells["explanation"] == expected, repr(text)
        dec = DECIMAL[dialect]
        assert cells["score"] == f"-3{dec}50" and cells["themes"] == f"-0{dec}25"


def test_xlsx_exporter_stores_every_formula_start_as_text() -> None:
    rows = [_row(enterprise_name=text) for text in GUARDED]
    buffer = io.BytesIO()
    export_module.XlsxExporter().write(rows, buffer, _context())
    assert "<f>" not in sheet_xml(buffer.getvalue())
    sheet = load_workbook(buffer).worksheets[0]
    name_column = COLUMNS.index("enterprise_name") + 1
    score_column = COLUMNS.index("score") + 1
    for r, text in enumerate(GUARDED, start=2):
        cell = sheet.cell(row=r, column=name_column)
        assert cell.data_type == "s", repr(text)
        # XML turns a bare CR into LF on reading; the text is otherwise kept as is
        assert cell.value.replace("\n", "\r") == text.replace("\n", "\r"), repr(text)
        score = sheet.cell(row=r, column=score_column)
        assert score.data_type == "n" and score.value == -3.5


# the Excel file -----------------------------------------------------------------------------


def _width(sheet: Worksheet, column: int) -> float | None:
    for dimension in sheet.column_dimensions.values():
        if dimension.min and dimension.max and dimension.min <= column <= dimension.max:
            return dimension.width if dimension.customWidth else None
    return None


def test_xlsx_layout(cli: CliFn, varied: tuple[DataPaths, dict[str, tuple[str, str]]]) -> None:
    paths, _ = varied
    data = export_ok(cli, "out.xlsx", "--top", "3", "--no-stability", data=paths)
    book = load_workbook(io.BytesIO(data))
    assert len(book.worksheets) == 2
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Y{1 + 12}"  # 25 columns, header + 4 needs x 3
    assert sheet.max_column == len(COLUMNS) == 25
    for column in range(1, len(COLUMNS) + 1):
        width = _width(sheet, column)
        assert width is not None and width > 0, f"column {column} has no width set"
    name_width = _width(sheet, COLUMNS.index("enterprise_name") + 1)
    rank_width = _width(sheet, COLUMNS.index("rank") + 1)
    assert name_width is not None and rank_width is not None and name_width > rank_width


def test_xlsx_second_sheet_describes_columns_and_weights(
    cli: CliFn, varied: tuple[DataPaths, dict[str, tuple[str, str]]]
) -> None:
    paths, _ = varied
    options = ("--weight", "themes=0.1", "--weight", "complementarity=0.5", "--no-stability")
    data = export_ok(cli, "out.xlsx", "--top", "2", *options, data=paths)
    about = load_workbook(io.BytesIO(data)).worksheets[1]
    pairs = [(r[0], r[1]) for r in about.iter_rows(values_only=True) if len(r) >= 2]
    meanings = {a: b for a, b in pairs if isinstance(b, str)}
    for name in COLUMNS:
        assert meanings.get(name, "").strip(), f"column {name} is not described"
    weights = {a: b for a, b in pairs if a in PARTS and isinstance(b, int | float)}
    # evidence weights are normalised to sum to 1; complementarity is a share as given
    total = 0.1 + Weights().text + Weights().keywords + Weights().meaning
    assert weights == {
        "themes": pytest.approx(0.1 / total),
        "text": pytest.approx(Weights().text / total),
        "keywords": pytest.approx(Weights().keywords / total),
        "meaning": pytest.approx(Weights().meaning / total),
        "complementarity": pytest.approx(0.5),
    }


# standard output and the summary line -------------------------------------------------------


@pytest.mark.parametrize("dialect", ["excel-fr", "rfc4180"])
def test_dash_writes_csv_to_stdout(cli: CliFn, small: DataPaths, dialect: str) -> None:
    options = ("--top", "2", "--no-stability", "--dialect", dialect)
    run = cli("export", "-", *options, data=small)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == export_ok(cli, "out.csv", *options, data=small)
    assert run.stderr.strip() == f"wrote 4 rows to standard output (csv, dialect {dialect})"
    assert not Path("-").exists()


@pytest.mark.slow
def test_dash_in_a_real_process(small: DataPaths, work: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "IMPLANT_MATCH_MAX_BYTES"}
    env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    data = ["--needs", str(small.needs), "--enterprises", str(small.enterprises)]
    options = ["--top", "2", "--no-stability", *data]
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", "export", "-", *options],
        cwd=work,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(BOM + b"need_id;need_title;")
    assert done.stdout.count(b"\r\n") == 5 and b"\r\r\n" not in done.stdout
    assert done.stderr.decode().strip() == "wrote 4 rows to standard output (csv, dialect excel-fr)"
    assert os.listdir(work) == []


@pytest.mark.parametrize(
    ("path", "options", "summary"),
    [
        ("out.csv", (), "wrote 4 rows to out.csv (csv, dialect excel-fr)"),
        ("out.csv", ("--dialect", "rfc4180"), "wrote 4 rows to out.csv (csv, dialect rfc4180)"),
        ("out.json", (), "wrote 4 rows to out.json (json)"),
        ("out.xlsx", (), "wrote 4 rows to out.xlsx (xlsx)"),
        ("sub/one.csv", ("--need", "fle-lyon", "--top", "1"), "wrote 1 row to sub/one.csv"),
    ],
)
def test_summary_on_stderr_and_nothing_on_stdout(
    cli: CliFn, small: DataPaths, path: str, options: tuple[str, ...], summary: str
) -> None:
    Path("sub").mkdir()
    run = cli("export", path, "--top", "2", "--no-stability", *options, data=small)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == b""
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.strip().startswith(summary)
    assert Path(path).is_file()


# refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["out.txt", "out.xls", "out", "out.csv.bak", "out."])
def test_unknown_extension_is_a_usage_error(cli: CliFn, small: DataPaths, path: str) -> None:
    run = cli("export", path, "--no-stability", data=small)
    assert run.exit_code == 2
    assert "cannot tell the format" in run.message
    assert ".csv" in run.message and ".json" in run.message and ".xlsx" in run.message
    assert run.stdout == b""
    assert os.listdir(".") == []


def test_extension_is_case_insensitive(cli: CliFn, small: DataPaths) -> None:
    data = export_ok(cli, "OUT.CSV", "--top", "2", "--no-stability", data=small)
    assert data == export_ok(cli, "out.csv", "--top", "2", "--no-stability", data=small)


def test_a_folder_is_refused(cli: CliFn, small: DataPaths, work: Path) -> None:
    folder = work / "shortlist.csv"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep", encoding="utf-8")
    run = cli("export", "shortlist.csv", "--no-stability", data=small)
    assert run.exit_code == 1
    assert "shortlist.csv: is a folder" in run.message
    assert sorted(os.listdir(folder)) == ["keep.txt"]
    assert os.listdir(work) == ["shortlist.csv"]


def test_a_folder_without_extension_is_refused_as_a_folder(
    cli: CliFn, small: DataPaths, work: Path
) -> None:
    (work / "exports").mkdir()
    run = cli("export", "exports", "--no-stability", data=small)
    assert run.exit_code == 1
    assert "is a folder" in run.message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing/out.csv", "folder 'missing' does not exist"),
        ("missing/deeper/out.xlsx", "does not exist"),
        ("plain.txt/out.csv", "plain.txt"),
    ],
)
def test_a_path_in_no_folder_is_refused(
    cli: CliFn, small: DataPaths, work: Path, path: str, message: str
) -> None:
    (work / "plain.txt").write_text("a file, not a folder", encoding="utf-8")
    run = cli("export", path, "--no-stability", data=small)
    assert run.exit_code == 1
    assert run.message.startswith("error: ") and message in run.message
    assert run.stdout == b""
    assert sorted(os.listdir(work)) == ["plain.txt"]
    assert (work / "plain.txt").read_text(encoding="utf-8") == "a file, not a folder"


AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_permissions = pytest.mark.skipif(
    AS_ROOT or sys.platform == "win32",
    reason="chmod does not stop root (nor Windows); the missing-folder cases cover refusal",
)


@needs_permissions
def test_a_read_only_folder_is_refused(cli: CliFn, small: DataPaths, work: Path) -> None:
    folder = work / "locked"
    folder.mkdir()
    (folder / "out.csv").write_bytes(b"old export\r\n")
    folder.chmod(0o555)
    try:
        run = cli("export", "locked/out.csv", "--no-stability", data=small)
        names = os.listdir(folder)
    finally:
        folder.chmod(0o755)
    assert run.exit_code == 1
    assert "locked/out.csv" in run.message and "permission denied" in run.message.lower()
    assert names == ["out.csv"]
    assert (folder / "out.csv").read_bytes() == b"old export\r\n"


@needs_permissions
def test_a_read_only_file_is_refused(cli: CliFn, small: DataPaths, work: Path) -> None:
    target = work / "out.csv"
    target.write_bytes(b"old export\r\n")
    target.chmod(0o444)
    run = cli("export", "out.csv", "--no-stability", data=small)
    assert run.exit_code == 1
    assert "permission denied" in run.message.lower()
    assert target.read_bytes() == b"old export\r\n"
    assert leftovers(work) == []


# atomic writes ------------------------------------------------------------------------------

EXPORTERS = {".csv": "CsvExporter", ".json": "JsonExporter", ".xlsx": "XlsxExporter"}
FAILURES = {
    "disk-full": (OSError(errno.ENOSPC, "No space left on device"), 1, "No space left"),
    "ctrl-c": (KeyboardInterrupt(), 130, "interrupted"),
    "bug": (RuntimeError("boom"), 3, "internal error: RuntimeError: boom"),
}


@pytest.mark.parametrize(
    ("suffix", "failure"),
    [
        (".csv", "disk-full"),
        (".json", "disk-full"),
        (".xlsx", "disk-full"),
        (".csv", "ctrl-c"),
        (".xlsx", "bug"),
    ],
)
def test_a_failed_write_keeps_the_previous_file(
    cli: CliFn,
    small: DataPaths,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    failure: str,
) -> None:
    error, code, message = FAILURES[failure]
    target = work / f"out{suffix}"
    old = b"previous export \xe9\r\n" * 50
    target.write_bytes(old)
    exporter = getattr(export_module, EXPORTERS[suffix])
    real_write = exporter.write
    seen: dict[str, Any] = {}

    def write_half_then_fail(self: Any, rows: Any, destination: Any, context: Any) -> None:
        whole = io.BytesIO()
        real_write(self, rows, whole, context)
        destination.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        destination.flush()
        seen["beside"] = [n for n in os.listdir(work) if n != target.name]
        seen["target"] = target.read_bytes()
        raise error

    monkeypatch.setattr(exporter, "write", write_half_then_fail)
    run = cli("export", target.name, "--no-stability", data=small)
    assert run.exit_code == code, run.stderr
    assert message in run.message
    assert run.stdout == b""
    # during the write: a temporary file beside the target, the target untouched
    assert len(seen["beside"]) == 1 and seen["beside"][0].endswith(".part"), seen
    assert seen["target"] == old
    # after: the old bytes, and no temporary file left
    assert target.read_bytes() == old
    assert os.listdir(work) == [target.name]


@pytest.mark.parametrize("suffix", list(EXPORTERS))
def test_a_successful_write_replaces_the_previous_file(
    cli: CliFn, small: DataPaths, work: Path, suffix: str
) -> None:
    target = work / f"out{suffix}"
    target.write_bytes(b"previous export\r\n")
    data = export_ok(cli, target.name, "--top", "2", "--no-stability", data=small)
    assert data != b"previous export\r\n" and len(data) > 100
    assert os.listdir(work) == [target.name]


def test_a_new_export_gets_the_usual_file_mode(cli: CliFn, small: DataPaths) -> None:
    previous = os.umask(0o022)
    try:
        export_ok(cli, "out.csv", "--top", "2", "--no-stability", data=small)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat("out.csv").st_mode) == 0o644


# bugs found while writing these tests -------------------------------------------------------


def test_the_summary_is_one_line_whatever_the_path_length(
    cli: CliFn, small: DataPaths, work: Path
) -> None:
    folder = work / ("exports-of-the-lyon-metropolis-for-the-2025-programme-" * 2)
    folder.mkdir()
    path = f"{folder.name}/shortlist.csv"
    run = cli("export", path, "--top", "2", "--no-stability", data=small)
    assert run.exit_code == 0
    assert run.stderr.splitlines() == [f"wrote 4 rows to {path} (csv, dialect excel-fr)"]


def test_the_summary_names_the_dialect_for_an_upper_case_extension(
    cli: CliFn, small: DataPaths
) -> None:
    run = cli("export", "OUT.CSV", "--top", "2", "--no-stability", data=small)
    assert run.exit_code == 0
    assert "dialect excel-fr" in run.stderr


def test_xlsx_export_of_a_name_with_a_control_character_is_not_an_internal_error(
    cli: CliFn, tmp_path: Path
) -> None:
    enterprises = enterprises_document()
    enterprises["enterprises"][2]["name"] = "Vélo\x01Pour Tous"
    paths = write_dataset(tmp_path / "control", enterprises=enterprises)
    run = cli("export", "out.xlsx", "--no-stability", data=paths)
    assert "internal error" not in run.message
    assert run.exit_code in (0, 1)  # written (character dropped) or refused as bad data


# -- the JSON writer ----------------------------------------------------------------------

JSON_KEYS = st.text(st.characters(codec="utf-8"), max_size=8)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec="utf-8"), max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(JSON_KEYS, inner, max_size=4)
    ),
    max_leaves=25,
)


def _plain(value: Any) -> bool:
    """Whether the json module writes every number of ``value`` as orjson does: no NaN or
    infinity, no float in exponent form."""
    if isinstance(value, float):
        return math.isfinite(value) and "e" not in repr(value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return True


def _as_read(value: Any) -> Any:
    """``value`` as a JSON reader gets it back: arrays as lists, NaN and infinities null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _as_read(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_read(v) for v in value]
    return value


@given(JSON_VALUES)
def test_dumps_writes_what_the_json_module_writes(value: Any) -> None:
    text = export_module.dumps(value)
    expected = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    try:
        orjson.dumps(value)
    except TypeError:  # an integer past 64 bits: written by the json module
        assert text == expected
        return
    assert json.loads(text) == _as_read(value)  # valid JSON, even for NaN
    if _plain(value):  # the same text, to the byte
        assert text == expected


def test_dumps_writes_valid_json_for_any_number() -> None:
    """Exponents are written as orjson's version writes them (1e-6, 1e16 or 1e+16); NaN,
    which JSON lacks, as null."""
    text = export_module.dumps([1e-06, 2.5e-7, 1e16, float("nan"), 0.0001, -0.0])
    assert json.loads(text) == [1e-06, 2.5e-7, 1e16, None, 0.0001, 0.0]
    assert "NaN" not in text and text.startswith("[\n  1e-") and text.endswith("\n]\n")


def test_dumps_leaves_other_values_to_the_json_module() -> None:
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    for value in (
        {1: "a", "b": [2.5]},
        [Level.HIGH, {"x": None}],
        {"t": True, 2.5: "f"},
        [2**70, -(2**64)],
    ):
        assert export_module.dumps(value) == json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    with pytest.raises(TypeError):
        export_module.dumps({"when": object()})


# faults of the destination (issue 22) -------------------------------------------------------


@pytest.fixture
def signals_stop_the_run() -> Any:
    """SIGTERM and SIGHUP handled as the command-line process handles them, then restored."""
    import signal

    from implant_match.interrupts import SIGNALS, stop_on_signals

    saved = {signum: signal.getsignal(signum) for signum in SIGNALS}
    stop_on_signals()
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_during_an_export_cleans_up_as_ctrl_c_does(
    cli: CliFn,
    small: DataPaths,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    signals_stop_the_run: None,
    name: str,
) -> None:
    import signal

    signum = getattr(signal, name)
    target = work / "out.csv"
    target.write_bytes(b"previous export\r\n")
    real_write = export_module.CsvExporter.write

    def write_then_get_killed(self: Any, rows: Any, destination: Any, context: Any) -> None:
        real_write(self, rows, destination, context)
        os.kill(os.getpid(), signum)  # delivered before the file is renamed into place

    monkeypatch.setattr(export_module.CsvExporter, "write", write_then_get_killed)
    run = cli("export", target.name, "--no-stability", data=small)
    assert run.exit_code == 128 + signum, run.stderr
    assert f"stopped by {name}" in run.stderr
    assert target.read_bytes() == b"previous export\r\n"
    assert os.listdir(work) == [target.name]


@pytest.mark.slow
def test_the_next_export_removes_the_temporary_files_of_a_killed_one(
    cli: CliFn, small: DataPaths, work: Path
) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **CAPTURE)
    dead_pid = int(gone.stdout)  # a process that has ended
    stale = work / f".out.csv.{dead_pid}.abcd1234.part"  # what SIGKILL leaves behind
    alive = work / f".out.csv.{os.getppid()}.abcd1234.part"  # another export, still writing
    foreign = work / ".out.csv.notes.part"  # not of this pattern
    for path in (stale, alive, foreign):
        path.write_bytes(b"half an export")
    export_ok(cli, "out.csv", "--top", "1", "--no-stability", data=small)
    assert sorted(os.listdir(work)) == sorted(["out.csv", alive.name, foreign.name])


CAPTURE: dict[str, Any] = {"capture_output": True, "text": True, "check": True}


def test_an_export_over_a_link_writes_through_to_its_target(
    cli: CliFn, small: DataPaths, work: Path
) -> None:
    (work / "real").mkdir()
    target = work / "real" / "shortlist.csv"
    target.write_bytes(b"previous export\r\n")
    target.chmod(0o640)
    link = work / "out.csv"
    link.symlink_to(target)
    data = export_ok(cli, "out.csv", "--top", "1", "--no-stability", data=small)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == data != b"previous export\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(work / "real") == ["shortlist.csv"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_an_export_over_a_link_to_a_device_is_refused(
    cli: CliFn, small: DataPaths, work: Path
) -> None:
    link = work / "out.csv"
    link.symlink_to("/dev/full")
    run = cli("export", "out.csv", "--top", "1", "--no-stability", data=small)
    assert run.exit_code == 1
    assert "not a regular file" in run.message and "/dev/full" in run.message
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert os.listdir(work) == ["out.csv"]
