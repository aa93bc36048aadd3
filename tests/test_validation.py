"""Validate stage: schema, references and warnings, and how ``validate`` reports them.

Every invalid file of ``tests/data/invalid`` goes through the real CLI and must give
exit code 1, no traceback and the exact ``path:line:col: error: message`` lines below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from implant_match import validation
from implant_match.cli import github_annotation
from implant_match.errors import Problem, closest, did_you_mean
from implant_match.loading import parse_document

DATA = Path(__file__).parent / "data"
VALID_NEEDS = "valid/needs.yaml"
VALID_ENTERPRISES = "valid/enterprises.yaml"


def summary_for(errors: int, warnings: int = 0, files: int = 1) -> str:
    return (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {files} file{'s' * (files != 1)}"
    )


# -- invalid data (manifest) ------------------------------------------------------------------

# (case, needs file, enterprises file, expected problem lines, sorted as printed)
INVALID_CASES: list[tuple[str, str, str, list[str]]] = [
    (
        "unknown-field-with-suggestion",
        "invalid/needs-unknown-field.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-unknown-field.yaml:23:5: error: unknown field 'titel' in need "
            "'transport-a-la-demande-diois'; did you mean 'title'? (allowed fields: id, "
            "territory, title, description, themes, keywords, priority, source, extra)",
        ],
    ),
    (
        "unknown-theme-with-suggestion",
        "invalid/needs-unknown-theme.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-unknown-theme.yaml:25:14: error: unknown theme 'mobilite'; "
            "did you mean 'mobilites'?"
        ],
    ),
    (
        "unknown-territory-of-need",
        "invalid/needs-unknown-territory.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-unknown-territory.yaml:30:16: error: unknown territory 'pays-dioi'; "
            "did you mean 'pays-diois'?"
        ],
    ),
    (
        "unknown-target-territory",
        VALID_NEEDS,
        "invalid/enterprises-unknown-territory.yaml",
        ["invalid/enterprises-unknown-territory.yaml:9:38: error: unknown territory 'vercors'"],
    ),
    (
        "duplicate-id",
        "invalid/needs-duplicate-id.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-duplicate-id.yaml:29:9: error: duplicate need id "
            "'transport-a-la-demande-diois' (first defined on line 21) (ids must be unique)"
        ],
    ),
    (
        "name-is-a-number",
        VALID_NEEDS,
        "invalid/enterprises-name-number.yaml",
        [
            "invalid/enterprises-name-number.yaml:5:11: error: name: expected text, found the "
            "number 123 in enterprise 'wimoov' (put it in quotes)"
        ],
    ),
    (
        "founded-is-text",
        VALID_NEEDS,
        "invalid/enterprises-founded-text.yaml",
        [
            "invalid/enterprises-founded-text.yaml:9:14: error: founded: expected a whole "
            "number, found the text 'next year' in enterprise 'wimoov'"
        ],
    ),
    (
        "bad-priority",
        "invalid/needs-bad-enum.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-bad-enum.yaml:27:15: error: priority: 'urgent' is not allowed; "
            "expected 'low', 'medium' or 'high' in need 'transport-a-la-demande-diois'"
        ],
    ),
    (
        "missing-required-field-of-need",
        "invalid/needs-missing-field.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-missing-field.yaml:29:5: error: missing required field "
            "'description' in need 'reparation-voitures-diois'"
        ],
    ),
    (
        "missing-required-field-of-enterprise",
        VALID_NEEDS,
        "invalid/enterprises-missing-field.yaml",
        [
            "invalid/enterprises-missing-field.yaml:4:5: error: missing required field "
            "'origin' in enterprise 'wimoov'"
        ],
    ),
    (
        "top-level-list",
        VALID_NEEDS,
        "invalid/enterprises-top-level-list.yaml",
        [
            "invalid/enterprises-top-level-list.yaml:2:1: error: expected a mapping with the "
            "keys schema_version, enterprises; found a list"
        ],
    ),
    (
        "theme-parent-cycle",
        "invalid/needs-theme-cycle.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-theme-cycle.yaml:6:13: error: theme 'mobilites' is its own "
            "ancestor: mobilites -> garage-solidaire -> mobilites (parents must form a tree)"
        ],
    ),
    (
        "several-faults-sorted-by-line",
        "invalid/needs-several-faults.yaml",
        VALID_ENTERPRISES,
        [
            "invalid/needs-several-faults.yaml:18:29: error: unknown theme 'gyropode'",
            "invalid/needs-several-faults.yaml:23:12: error: title: must not be empty in need "
            "'transport-a-la-demande-diois'",
            "invalid/needs-several-faults.yaml:27:15: error: priority: 'urgent' is not "
            "allowed; expected 'low', 'medium' or 'high' in need 'transport-a-la-demande-diois'",
            "invalid/needs-several-faults.yaml:33:32: error: unknown theme 'gyropode'",
        ],
    ),
]


@pytest.mark.parametrize(
    ("needs", "enterprises", "expected"),
    [pytest.param(n, e, lines, id=case) for case, n, e, lines in INVALID_CASES],
)
def test_invalid_data_is_reported(
    validate: Any, needs: str, enterprises: str, expected: list[str]
) -> None:
    run = validate(needs, enterprises)
    assert run.exit_code == 1
    assert run.problem_lines == expected
    assert run.summary == summary_for(len(expected))
    assert run.stderr == ""


def test_manifest_files_exist() -> None:
    for _, needs, enterprises, _ in INVALID_CASES:
        assert (DATA / needs).is_file(), needs
        assert (DATA / enterprises).is_file(), enterprises


@pytest.mark.slow
def test_invalid_data_in_a_real_process(validate_process: Any) -> None:
    run = validate_process("invalid/needs-several-faults.yaml", VALID_ENTERPRISES)
    assert run.exit_code == 1
    expected = next(lines for case, _, _, lines in INVALID_CASES if case.startswith("several"))
    assert run.problem_lines == expected
    assert run.summary == summary_for(4)


# -- YAML 1.1 surprises: the message must say to quote ------------------------------------------

NAME_NO_LINE = (
    "invalid/needs-name-no.yaml:13:11: error: name: unquoted 'no' is read as the boolean "
    "false by YAML 1.1 tools in territory 'pays-diois' (write name: \"no\")"
)


def test_unquoted_no_asks_for_quotes(validate: Any) -> None:
    run = validate("invalid/needs-name-no.yaml", VALID_ENTERPRISES)
    assert run.exit_code == 1
    assert NAME_NO_LINE in run.problem_lines


def test_unquoted_no_is_the_only_problem(validate: Any) -> None:
    run = validate("invalid/needs-name-no.yaml", VALID_ENTERPRISES)
    assert run.problem_lines == [NAME_NO_LINE]


def test_number_with_separator_asks_for_a_plain_number(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-digit-separator.yaml")
    assert run.exit_code == 1
    (line,) = run.problem_lines
    assert line.startswith(
        "invalid/enterprises-digit-separator.yaml:10:14: error: founded: unquoted '2_010' "
        "is read as "
    )
    assert line.endswith(
        "in enterprise 'wimoov' (write the number without leading zeros or separators)"
    )


def test_yaml11_message_names_yaml11_once(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-digit-separator.yaml")
    (line,) = run.problem_lines
    assert line.count("YAML 1.1") == 1


def test_unquoted_word_in_a_list_is_reported(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-yaml11-in-list.yaml")
    assert run.exit_code == 1
    (line,) = run.problem_lines
    assert line.startswith(
        "invalid/enterprises-yaml11-in-list.yaml:8:39: error: keywords[1]: unquoted 'on' is "
        "read as the boolean true by YAML 1.1 tools in enterprise 'wimoov' ("
    )
    assert '"on"' in line


def test_unquoted_word_in_a_list_hint_is_writable(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-yaml11-in-list.yaml")
    (line,) = run.problem_lines
    assert "write keywords[1]:" not in line


def test_unsupported_schema_version_is_an_error(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-schema-version-2.yaml")
    assert run.exit_code == 1
    assert run.problem_lines == [
        "invalid/enterprises-schema-version-2.yaml:2:17: error: unsupported schema_version 2; "
        "this version of implant-match reads 1"
    ]


# -- warnings and --strict ----------------------------------------------------------------------

# (case, needs file, enterprises file, expected warning line)
WARNING_CASES: list[tuple[str, str, str, str]] = [
    (
        "near-duplicate-enterprise-names",
        VALID_NEEDS,
        "invalid/enterprises-warning-near-duplicate-names.yaml",
        "invalid/enterprises-warning-near-duplicate-names.yaml:27:11: warning: enterprise "
        "name 'WIMOOV' is very close to 'wimoov' (line 5): the same enterprise twice?",
    ),
    (
        "unused-theme",
        "invalid/needs-warning-unused-theme.yaml",
        VALID_ENTERPRISES,
        "invalid/needs-warning-unused-theme.yaml:11:9: warning: theme 'velo' is never used by "
        "a need, an enterprise or a local actor",
    ),
    (
        "priority-theme-without-need",
        "invalid/needs-warning-priority-without-need.yaml",
        VALID_ENTERPRISES,
        "invalid/needs-warning-priority-without-need.yaml:16:34: warning: priority theme "
        "'velo' of territory 'pays-diois' has no need recorded",
    ),
]
WARNING_PARAMS = [pytest.param(n, e, line, id=case) for case, n, e, line in WARNING_CASES]


@pytest.mark.parametrize(("needs", "enterprises", "expected"), WARNING_PARAMS)
def test_warning_alone_exits_zero(
    validate: Any, needs: str, enterprises: str, expected: str
) -> None:
    run = validate(needs, enterprises)
    assert run.exit_code == 0
    assert run.problem_lines == [expected]
    assert run.summary == summary_for(0, 1)


@pytest.mark.parametrize(("needs", "enterprises", "expected"), WARNING_PARAMS)
def test_strict_turns_a_warning_into_a_failure(
    validate: Any, needs: str, enterprises: str, expected: str
) -> None:
    run = validate(needs, enterprises, "--strict")
    assert run.exit_code == 1
    assert run.problem_lines == [expected]


def test_strict_on_clean_data_exits_zero(validate: Any) -> None:
    run = validate(VALID_NEEDS, VALID_ENTERPRISES, "--strict")
    assert run.exit_code == 0
    assert run.lines == ["ok: no problems found"]


def test_check_warnings_returns_warning_problems() -> None:
    needs_text = (DATA / "invalid" / "needs-warning-unused-theme.yaml").read_text("utf-8")
    enterprises_text = (DATA / VALID_ENTERPRISES).read_text("utf-8")
    result = validation.validate_documents(
        parse_document(needs_text, "needs.yaml"),
        parse_document(enterprises_text, "enterprises.yaml"),
    )
    assert result.ok
    assert result.problems == [
        Problem(
            "needs.yaml",
            11,
            9,
            "warning",
            "theme 'velo' is never used by a need, an enterprise or a local actor",
        )
    ]
    assert result.needs_file is not None and result.enterprises_file is not None
    assert len(result.enterprises_file.enterprises) == 3


# -- --format json --------------------------------------------------------------------------------


def test_json_report_of_invalid_data(validate: Any) -> None:
    run = validate("invalid/needs-several-faults.yaml", VALID_ENTERPRISES, "--format", "json")
    assert run.exit_code == 1
    report = json.loads(run.stdout)
    assert set(report) == {"valid", "files", "errors", "warnings", "problems"}
    assert report["valid"] is False
    assert report["files"] == ["invalid/needs-several-faults.yaml", VALID_ENTERPRISES]
    assert (report["errors"], report["warnings"]) == (4, 0)
    assert [(p["line"], p["column"]) for p in report["problems"]] == [
        (18, 29),
        (23, 12),
        (27, 15),
        (33, 32),
    ]
    assert report["problems"][0] == {
        "path": "invalid/needs-several-faults.yaml",
        "line": 18,
        "column": 29,
        "severity": "error",
        "message": "unknown theme 'gyropode'",
        "hint": None,
    }


def test_json_report_keeps_the_hint_apart(validate: Any) -> None:
    run = validate("invalid/needs-unknown-field.yaml", VALID_ENTERPRISES, "--format", "json")
    report = json.loads(run.stdout)
    (unknown,) = report["problems"]
    assert unknown["message"] == (
        "unknown field 'titel' in need 'transport-a-la-demande-diois'; did you mean 'title'?"
    )
    assert unknown["hint"] == (
        "allowed fields: id, territory, title, description, themes, keywords, priority, source, "
        "extra"
    )


def test_json_report_of_a_file_level_problem(validate: Any) -> None:
    run = validate(VALID_NEEDS, "invalid/enterprises-empty.yaml", "--format", "json")
    assert run.exit_code == 1
    (problem,) = json.loads(run.stdout)["problems"]
    assert problem == {
        "path": "invalid/enterprises-empty.yaml",
        "line": 0,
        "column": 0,
        "severity": "error",
        "message": "file is empty: it holds no YAML data",
        "hint": None,
    }


def test_json_report_of_valid_data(validate: Any) -> None:
    run = validate(VALID_NEEDS, VALID_ENTERPRISES, "--format", "json")
    assert run.exit_code == 0
    assert json.loads(run.stdout) == {
        "valid": True,
        "files": [VALID_NEEDS, VALID_ENTERPRISES],
        "errors": 0,
        "warnings": 0,
        "problems": [],
    }


@pytest.mark.parametrize(("strict", "code"), [((), 0), (("--strict",), 1)])
def test_json_report_of_a_warning(validate: Any, strict: tuple[str, ...], code: int) -> None:
    run = validate(
        "invalid/needs-warning-unused-theme.yaml", VALID_ENTERPRISES, "--format", "json", *strict
    )
    assert run.exit_code == code
    report = json.loads(run.stdout)
    assert report["valid"] is (code == 0)
    assert (report["errors"], report["warnings"]) == (0, 1)
    assert report["problems"][0]["severity"] == "warning"


# -- --format github -------------------------------------------------------------------------------


def _annotations(run: Any) -> list[str]:
    return [line for line in run.lines if line.startswith("::")]


def test_github_annotations_follow_the_text_report(validate: Any) -> None:
    run = validate("invalid/needs-unknown-field.yaml", VALID_ENTERPRISES, "--format", "github")
    assert run.exit_code == 1
    path = "invalid/needs-unknown-field.yaml"
    assert run.lines == [
        f"{path}:23:5: error: unknown field 'titel' in need 'transport-a-la-demande-diois'; "
        "did you mean 'title'? (allowed fields: id, territory, title, description, themes, "
        "keywords, priority, source, extra)",
        summary_for(1),
        f"::error file={path},line=23,col=5::unknown field 'titel' in need "
        "'transport-a-la-demande-diois'; did you mean 'title'? (allowed fields: id, territory, "
        "title, description, themes, keywords, priority, source, extra)",
    ]


def test_github_warning_and_file_level_annotations(validate: Any) -> None:
    run = validate(
        "invalid/needs-warning-unused-theme.yaml", VALID_ENTERPRISES, "--format", "github"
    )
    assert run.exit_code == 0
    assert _annotations(run) == [
        "::warning file=invalid/needs-warning-unused-theme.yaml,line=11,col=9::theme 'velo' "
        "is never used by a need, an enterprise or a local actor"
    ]
    run = validate(VALID_NEEDS, "invalid/enterprises-empty.yaml", "--format", "github")
    assert _annotations(run) == [
        "::error file=invalid/enterprises-empty.yaml::file is empty: it holds no YAML data"
    ]


def test_github_annotations_escape_properties_and_data(validate: Any, tmp_path: Path) -> None:
    text = (DATA / VALID_NEEDS).read_text("utf-8")
    text = text.replace("priority: high", 'priority: "100%\\r\\nfor sure"')
    (tmp_path / "a,b:c.yaml").write_text(text, "utf-8")
    run = validate("a,b:c.yaml", DATA / VALID_ENTERPRISES, "--format", "github", cwd=tmp_path)
    assert run.exit_code == 1
    assert _annotations(run) == [
        "::error file=a%2Cb%3Ac.yaml,line=27,col=15::priority: '100%25%0D%0Afor sure' is not "
        "allowed; expected 'low', 'medium' or 'high' in need 'transport-a-la-demande-diois'"
    ]


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            Problem("d:/x,y.yaml", 3, 7, "error", "a: 50% off\r\nnext", "h, i: j"),
            "::error file=d%3A/x%2Cy.yaml,line=3,col=7::a: 50%25 off%0D%0Anext (h, i: j)",
        ),
        (Problem("f.yaml", 3, 0, "warning", "w"), "::warning file=f.yaml,line=3::w"),
        (Problem("f.yaml", 0, 0, "error", "e"), "::error file=f.yaml::e"),
        (
            Problem("100%.yaml", 1, 1, "error", "%0A"),
            "::error file=100%25.yaml,line=1,col=1::%250A",
        ),
    ],
)
def test_github_annotation_escaping(problem: Problem, expected: str) -> None:
    assert github_annotation(problem) == expected


# -- text report robustness ---------------------------------------------------------------------


def _needs_with_priority(tmp_path: Path, value: str) -> Path:
    text = (DATA / VALID_NEEDS).read_text("utf-8").replace("priority: high", f"priority: {value}")
    (tmp_path / "needs.yaml").write_text(text, "utf-8")
    return tmp_path


def test_text_report_prints_values_as_written(validate: Any, tmp_path: Path) -> None:
    folder = _needs_with_priority(tmp_path, '":fire:"')
    run = validate("needs.yaml", DATA / VALID_ENTERPRISES, cwd=folder)
    (line,) = run.problem_lines
    assert "':fire:'" in line


def test_text_report_keeps_one_line_per_problem(validate: Any, tmp_path: Path) -> None:
    folder = _needs_with_priority(tmp_path, '"urgent\\nnow"')
    run = validate("needs.yaml", DATA / VALID_ENTERPRISES, cwd=folder)
    assert len(run.lines) == 2  # one problem, one summary


# -- helpers -------------------------------------------------------------------------------------


def test_did_you_mean() -> None:
    assert did_you_mean("mobilite", ["garage-solidaire", "mobilites"]) == (
        "; did you mean 'mobilites'?"
    )
    assert did_you_mean("titel", ["id", "title", "territory"]) == "; did you mean 'title'?"
    assert did_you_mean("vercors", ["pays-diois"]) == ""
    assert did_you_mean("mobilites", ["mobilites"]) == ""
    assert closest("", ["a"]) is None
    assert closest("a", []) is None


def test_fold_ignores_case_and_accents() -> None:
    assert validation.fold("Métropole de LYON") == "metropole de lyon"
    assert validation.fold("Œuvre") == validation.fold("œuvre")
