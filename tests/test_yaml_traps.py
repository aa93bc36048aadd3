"""The usual YAML traps are all reported in one run, at the culprit, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from implant_match.errors import DataError
from implant_match.loading import parse_document
from implant_match.yaml_traps import find_traps
from tests.factories import DATA, EVAL

TRAPPED = """\
schema_version: 1
enterprises:
  - id: atelier
    name: L'Atelier : couture solidaire
    description: 'L'atelier forme des couturières'
    themes: [textile]
    keywords: ["couture", 'l'upcycling', "retouche"]
    origin: Paris
  - id: tab
\tname: "Tab"
    description: "Un "bon" plan"
    impact: |
      Note : un bloc de texte, où tout est permis: ici
    website: https://example.org
    founded: 2020
"""


def test_every_trap_is_reported_at_its_culprit_with_the_fix() -> None:
    with pytest.raises(DataError) as caught:
        parse_document(TRAPPED, "enterprises.yaml")
    assert [p.format() for p in caught.value.problems] == [
        "enterprises.yaml:4:21: error: ':' followed by a space inside unquoted text: YAML "
        "reads it as a new key (put the text in double quotes: name: \"L'Atelier : couture "
        'solidaire")',
        "enterprises.yaml:5:20: error: an apostrophe inside single-quoted text ends the text "
        '(put the text in double quotes: description: "L\'atelier forme des couturières")',
        "enterprises.yaml:7:29: error: an apostrophe inside single-quoted text ends the text "
        '(put the text in double quotes: "l\'upcycling")',
        "enterprises.yaml:10:1: error: YAML syntax error: a tab in the indentation "
        "(indent with spaces: YAML does not allow tabs there)",
        "enterprises.yaml:11:22: error: a double quote inside double-quoted text ends the "
        'text (escape the quotes inside: description: "Un \\"bon\\" plan", or write « » '
        "instead)",
    ]


def test_a_french_colon_at_the_end_of_a_long_line_points_at_the_colon() -> None:
    line = "    description: " + "Un texte très long " * 12 + "et enfin : la suite"
    text = f"schema_version: 1\nenterprises:\n  - id: a\n{line}\n"
    with pytest.raises(DataError) as caught:
        parse_document(text, "e.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (4, line.index(" : ") + 2)
    assert "put the text in double quotes" in (problem.hint or "")


def test_an_error_that_is_no_trap_keeps_the_parser_message() -> None:
    with pytest.raises(DataError) as caught:
        parse_document('schema_version: 1\nenterprises: [\n  "a",\n', "e.yaml")
    (problem,) = caught.value.problems
    assert problem.message.startswith("YAML syntax error")


def test_quoted_text_written_right_is_no_trap() -> None:
    text = (
        'a: "L\'Atelier : couture"\n'
        "b: 'L''Atelier : couture'\n"
        'c: "Un \\"bon\\" plan"\n'
        "d: [\"l'atelier\", 'l''autre', plain]\n"
        "e: https://example.org/a:b\n"
        "f: 10:30\n"
        "g: |\n  x : y\n"
        "# commentaire : rien\n"
    )
    assert find_traps(text, "f.yaml") == []


@pytest.mark.parametrize(
    "path",
    [
        DATA / "needs.yaml",
        DATA / "enterprises.yaml",
        EVAL / "needs.yaml",
        EVAL / "enterprises.yaml",
        EVAL / "set-b" / "needs.yaml",
        EVAL / "set-b" / "enterprises.yaml",
    ],
    ids=lambda p: str(p.relative_to(DATA.parent)),
)
def test_the_shipped_files_hold_no_trap(path: Path) -> None:
    assert find_traps(path.read_text(encoding="utf-8"), str(path)) == []


@given(st.text(alphabet=st.sampled_from(list(" \t:'\"#-[],|>abé\n")), max_size=200))
def test_the_scan_never_fails_on_any_text(text: str) -> None:
    for problem in find_traps(text, "x.yaml"):
        assert problem.line >= 1 and problem.column >= 1
        assert problem.hint


def test_a_colon_in_a_text_on_several_lines_gets_the_hint_from_the_parser_error() -> None:
    text = "schema_version: 1\nenterprises:\n  - id: a\n    description: un texte sur\n"
    text += "      deux lignes : voilà\n"
    with pytest.raises(DataError) as caught:
        parse_document(text, "e.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (5, 19)
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed")
    assert (
        problem.hint == "put the text in double quotes if a ':' followed by a space is part of it"
    )
