"""`import`: a spreadsheet of candidates becomes a valid enterprises.yaml, or says why not."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.errors import DataError
from implant_match.models import Enterprise
from implant_match.spreadsheet import header_key, import_spreadsheet, read_sheet
from implant_match.starter import write_starter

HEADERS_FR = [
    "Nom",
    "Description",
    "Thèmes",
    "Origine",
    "Création",
    "Mots-clés",
    "Territoires visés",
    "Forme juridique",
    "Site",
]
ROWS = [
    [
        "La Cuisine : solidaire",
        'Des repas "solidaires" : une cuisine d\'insertion # pas un commentaire',
        "Aide alimentaire; iae",
        "Lyon",
        "2016",
        "repas; cantine d'insertion",
        "auvergne-rhone-alpes",
        "SCIC",
        "https://example.org/a:b",
    ],
    [
        "L'Atelier Vélo",
        "Atelier de réparation de vélos, vélo-école et - tirets -: ici.",
        "velo",
        "Grenoble",
        "",
        "",
        "",
        "association",
        "",
    ],
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_starter(tmp_path / "data")
    return tmp_path


def write_csv(path: Path, rows: list[list[str]], dialect: str) -> Path:
    if dialect == "excel-fr":  # as French Excel saves: BOM, ';', CRLF, decimal comma
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
            writer.writerows([[c.replace("2016", "2016,0") for c in r] for r in rows])
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append([int(c) if isinstance(c, str) and c.isdigit() else c for c in row])
    book.save(path)
    return path


def check_round_trip(target: Path) -> None:
    ds = im.load_dataset("data/needs.yaml", enterprises=["data/enterprises.yaml", target])
    cuisine = ds.enterprise_by_id["la-cuisine-solidaire"]
    assert cuisine.name == "La Cuisine : solidaire"
    assert cuisine.description == ROWS[0][1]
    assert cuisine.themes == ("aide-alimentaire", "iae")
    assert cuisine.founded == 2016
    assert cuisine.keywords == ("repas", "cantine d'insertion")
    assert cuisine.target_territories == ("auvergne-rhone-alpes",)
    assert cuisine.website == "https://example.org/a:b"
    velo = ds.enterprise_by_id["l-atelier-velo"]
    assert (velo.name, velo.themes, velo.founded, velo.target_territories) == (
        "L'Atelier Vélo",
        ("velo",),
        None,
        None,
    )


@pytest.mark.parametrize("dialect", ["excel-fr", "rfc4180"])
def test_a_csv_round_trips(project: Path, dialect: str) -> None:
    source = write_csv(project / "candidats.csv", [HEADERS_FR, *ROWS], dialect)
    assert read_sheet(source).dialect == dialect
    outcome = import_spreadsheet(source, Path("data/new.yaml"), Path("data/needs.yaml"))
    assert (outcome.written, outcome.added, outcome.imported.problems) == (2, 2, [])
    check_round_trip(Path("data/new.yaml"))


def test_an_xlsx_written_by_openpyxl_round_trips_with_english_headers(project: Path) -> None:
    english = [
        "name",
        "DESCRIPTION",
        "themes",
        "origin",
        "founded",
        "keywords",
        "target_territories",
        "legal_form",
        "website",
    ]
    source = write_xlsx(project / "candidates.xlsx", [english, *ROWS])
    result = CliRunner().invoke(
        app, ["import", str(source), "--to", "data/new.yaml", "--needs", "data/needs.yaml"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 2 enterprises to data/new.yaml (2 added, 0 updated)" in result.stderr
    check_round_trip(Path("data/new.yaml"))
    text = Path("data/new.yaml").read_text("utf-8")
    assert 'name: "La Cuisine : solidaire"' in text  # quoted: the colon cannot break it


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(project: Path) -> None:
    rows = [
        HEADERS_FR,
        ROWS[0],
        ["Sans description", "", "Alimentaton", "Paris", "19xx", "", "metropole-lyon", "", ""],
        ROWS[1],
    ]
    source = write_csv(project / "c.csv", rows, "rfc4180")
    result = CliRunner().invoke(
        app, ["import", str(source), "--to", "data/new.yaml", "--needs", "data/needs.yaml"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "c.csv:3:2: error: description: the cell is empty",
        "c.csv:3:3: error: unknown theme 'Alimentaton'; did you mean 'alimentation' "
        "(Alimentation)? (`implant-match themes WORD` lists the themes)",
        "c.csv:3:5: error: founded: '19xx' is not a year (four digits)",
        "c.csv:3:7: error: unknown territory 'metropole-lyon'",
        "4 errors, 0 warnings in 1 file",
    ]
    assert not Path("data/new.yaml").exists()
    skipped = CliRunner().invoke(
        app,
        [
            "import",
            str(source),
            "--to",
            "data/new.yaml",
            "--needs",
            "data/needs.yaml",
            "--skip-invalid",
        ],
    )
    assert skipped.exit_code == 0, skipped.output
    assert "wrote 2 enterprises to data/new.yaml (2 added, 0 updated; 1 invalid row " in (
        skipped.stderr
    )
    assert "left out: 3" in skipped.stderr
    check_round_trip(Path("data/new.yaml"))


def test_missing_and_unknown_columns_are_said(project: Path) -> None:
    source = write_csv(project / "c.csv", [["Nom", "Couleur"], ["A", "bleu"]], "rfc4180")
    with pytest.raises(DataError) as caught:
        import_spreadsheet(source, Path("data/new.yaml"))
    found = [(p.line, p.column, p.severity, p.message) for p in caught.value.problems]
    assert found == [
        (1, 0, "error", "no column for 'description'"),
        (1, 0, "error", "no column for 'origin'"),
        (1, 0, "error", "no column for 'themes'"),
        (1, 2, "warning", "column 'Couleur' matches no field: it is left out"),
    ]


def test_an_existing_target_is_merged_only_when_asked(project: Path) -> None:
    source = write_csv(project / "c.csv", [HEADERS_FR, *ROWS], "excel-fr")
    refused = CliRunner().invoke(app, ["import", str(source), "--to", "data/enterprises.yaml"])
    assert refused.exit_code == 1
    assert "data/enterprises.yaml: error: already exists: nothing was written (pass --merge" in (
        refused.stderr
    )
    before = Path("data/enterprises.yaml").read_text("utf-8")
    assert Path("data/enterprises.yaml").read_text("utf-8") == before
    outcome = import_spreadsheet(
        source, Path("data/enterprises.yaml"), Path("data/needs.yaml"), merge=True
    )
    assert (outcome.written, outcome.added, outcome.replaced) == (3, 2, 0)
    again = import_spreadsheet(
        source, Path("data/enterprises.yaml"), Path("data/needs.yaml"), merge=True
    )
    assert (again.written, again.added, again.replaced) == (3, 0, 2)
    text = Path("data/enterprises.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=schemas/enterprises.schema.json")
    ds = im.load_dataset("data/needs.yaml", "data/enterprises.yaml")
    assert len(ds.enterprises) == 3


def test_headers_match_whatever_their_case_and_accents() -> None:
    assert header_key("  Territoires VISÉS ") == header_key("territoires_vises")
    assert header_key("Mots-Clés") == "mots cles"


def test_the_cli_checks_territories_against_data_needs_by_default(project: Path) -> None:
    rows = [HEADERS_FR, [*ROWS[1][:6], "Mon territoire", "", ""]]
    source = write_csv(project / "c.csv", rows, "excel-fr")
    result = CliRunner().invoke(app, ["import", str(source), "--to", "data/new.yaml"])
    assert result.exit_code == 0, result.output
    ds = im.load_dataset("data/needs.yaml", enterprises=["data/new.yaml"])
    assert ds.enterprise_by_id["l-atelier-velo"].target_territories == ("mon-territoire",)


cells = st.text(alphabet=st.sampled_from(list("aé ;,|:'\"\n-0123456789#Vv")), max_size=30)


@given(st.lists(st.lists(cells, min_size=len(HEADERS_FR), max_size=len(HEADERS_FR)), max_size=4))
def test_any_cell_text_gives_records_or_located_problems(rows: list[list[str]]) -> None:
    from implant_match.spreadsheet import Sheet, import_enterprises
    from implant_match.taxonomy import load_taxonomy

    sheet = Sheet("s.csv", tuple(HEADERS_FR), tuple(enumerate(map(tuple, rows), 2)), "rfc4180")
    result = import_enterprises(sheet, load_taxonomy().themes)
    assert len(result.records) + len(result.invalid_rows) == len(rows)
    for record in result.records:
        Enterprise.model_validate(record)
    for problem in result.problems:
        assert problem.line >= 2 and problem.column >= 1
