"""`init` writes valid starter files; no command falls back to the example data silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.schema import schema_text


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def test_init_output_validates_without_a_warning(empty: Path) -> None:
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "wrote data/needs.yaml" in result.stderr
    checked = CliRunner().invoke(app, ["validate", "--strict"])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines() == ["ok: no problems found"]
    assert checked.stderr == ""  # the files read are the new ones, not the example


def test_init_files_carry_modelines_to_their_schemas(empty: Path) -> None:
    CliRunner().invoke(app, ["init", "projet"])
    for kind in ("needs", "enterprises"):
        first = (empty / "projet" / f"{kind}.yaml").read_text("utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=schemas/{kind}.schema.json"
        schema = (empty / "projet" / "schemas" / f"{kind}.schema.json").read_text("utf-8")
        assert schema == schema_text(kind)
        json.loads(schema)


def test_init_refuses_to_overwrite_and_writes_nothing(empty: Path) -> None:
    (empty / "data").mkdir()
    (empty / "data" / "enterprises.yaml").write_text("mine", "utf-8")
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 1
    assert result.stderr == "error: data/enterprises.yaml already exists: nothing was written\n"
    assert sorted(p.name for p in (empty / "data").iterdir()) == ["enterprises.yaml"]
    assert (empty / "data" / "enterprises.yaml").read_text("utf-8") == "mine"


def test_validate_in_an_empty_folder_exits_2(empty: Path) -> None:
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: no data/needs.yaml nor data/enterprises.yaml here: nothing of yours to validate"
    )


def test_a_fallback_to_the_example_data_is_said_once(empty: Path) -> None:
    result = CliRunner().invoke(
        app, ["rank", "--top", "1", "--need", "formation-francais-refugies-lyon"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "no data/needs.yaml nor data/enterprises.yaml here: using the bundled example data"
    ]
    (empty / "data").mkdir()
    CliRunner().invoke(app, ["init"])
    (empty / "data" / "enterprises.yaml").unlink()
    half = CliRunner().invoke(app, ["gaps"])
    assert half.stderr.splitlines()[0] == (
        "no data/enterprises.yaml here: using the bundled example data"
    )


def test_written_files_get_a_new_files_mode_not_mkstemps(empty: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        CliRunner().invoke(app, ["init"])
    finally:
        os.umask(old)
    assert (empty / "data" / "needs.yaml").stat().st_mode & 0o777 == 0o644
