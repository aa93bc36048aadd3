"""`implant-match decide`: the decisions file edited as by hand, atomically, ids checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app

from .factories import write_dataset

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "IMPLANT_MATCH_CACHE": "off"}

HAND_WRITTEN = """\
# Décisions du comité — saison 2026
schema_version: 1

decisions:
    # première réunion
    -   status: shortlisted   # à revoir en mars
        enterprise: "langues"
        need: fle-lyon
        note: 'Très bon dossier'

    # le vélo attendra
    -   enterprise: velo
        status: on-hold
        by: Camille
        date: "2026-01-15"
# fin du fichier
"""


@pytest.fixture
def data(tmp_path: Path) -> list[str]:
    paths = write_dataset(tmp_path)
    return ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]


def decide(data: list[str], *args: str) -> Any:
    return CliRunner().invoke(app, ["decide", *args, *data], env=ENV)


def test_updating_an_entry_keeps_everything_else_byte_for_byte(
    tmp_path: Path, data: list[str]
) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    result = decide(
        data, "velo", "--status", "écartée", "--note", "hors sujet", "--date", "2026-02-01"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Vélo Pour Tous everywhere: rejected (updated in {path.as_posix()})\n"
    )
    before, after = HAND_WRITTEN.splitlines(), path.read_text(encoding="utf-8").splitlines()
    edited = before.index("    -   enterprise: velo")
    # everything before the edited entry, and the comment after it, is untouched
    assert after[:edited] == before[:edited]
    assert after[-1] == before[-1] == "# fin du fichier"
    entry = after[edited : len(after) - 1]
    assert entry == [  # its keys in their order, the new one in its place, quotes kept
        "    -   enterprise: velo",
        "        status: rejected",
        "        note: hors sujet",
        "        by: Camille",
        '        date: "2026-02-01"',
    ]
    ds = im.load_dataset(*data[1::2], decisions=path)
    (decision,) = [d for d in ds.decisions.entries if d.enterprise == "velo"]
    assert (decision.status.value, decision.note, decision.by) == (
        "rejected",
        "hors sujet",
        "Camille",
    )


def test_a_new_entry_is_appended_after_the_others(tmp_path: Path, data: list[str]) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    os.chmod(path, 0o640)
    result = decide(
        data, "cantine", "repas-grenoble", "--status", "selected", "--by", "comité",
        "--date", "2026-02-02",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # the file as it was, the new entry after the last one, the closing comment below it
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN.replace(
        "# fin du fichier\n",
        "    -   enterprise: cantine\n"
        "        need: repas-grenoble\n"
        "        status: selected\n"
        "        date: '2026-02-02'\n"
        "        by: comité\n"
        "# fin du fichier\n",
    )
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_missing_file_is_created_with_a_header(tmp_path: Path, data: list[str]) -> None:
    path = tmp_path / "decisions.yaml"
    result = decide(
        data, "langues", "--territory", "lyon", "--status", "retenue", "--date", "2026-03-01"
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Decisions of the selection committee")
    assert text.endswith(
        "schema_version: 1\ndecisions:\n  - enterprise: langues\n    territory: lyon\n"
        "    status: selected\n    date: '2026-03-01'\n"
    )
    ds = im.load_dataset(*data[1::2])
    assert [(d.enterprise, d.territory, d.status.value) for d in ds.decisions.entries] == [
        ("langues", "lyon", "selected")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["langue", "--status", "rejected"],
            "unknown enterprise 'langue'; did you mean 'langues'?",
        ),
        (["langues", "fle-lyn", "--status", "rejected"], "unknown need 'fle-lyn'; did you mean"),
        (["langues", "--territory", "lyn", "--status", "rejected"], "unknown territory 'lyn'"),
        (["langues", "--status", "peut-être"], "'peut-être' is not a status"),
        (["langues", "--status", "rejected", "--date", "1/2/2026"], "--date"),
        (["langues"], "--status is required"),
        (
            ["langues", "fle-lyon", "--territory", "grenoble", "--status", "rejected"],
            "need 'fle-lyon' is in territory 'lyon', not 'grenoble'",
        ),
    ],
)
def test_bad_arguments_change_nothing(
    tmp_path: Path, data: list[str], args: list[str], message: str
) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    result = decide(data, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert path.read_text(encoding="utf-8") == HAND_WRITTEN


def test_a_broken_file_is_reported_and_left_alone(tmp_path: Path, data: list[str]) -> None:
    path = tmp_path / "decisions.yaml"
    broken = HAND_WRITTEN.replace("enterprise: velo", "enterprise: vello")
    path.write_text(broken, encoding="utf-8")
    result = decide(data, "langues", "--status", "rejected")
    assert result.exit_code == 1
    assert f"{path}:12:21: error: unknown enterprise 'vello'; did you mean 'velo'?" in result.stderr
    assert path.read_text(encoding="utf-8") == broken


def test_the_bundled_data_folder_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match.loading import bundled_data_dir

    monkeypatch.chdir(tmp_path)  # no ./data: the bundled example is read
    result = CliRunner().invoke(app, ["decide", "unir", "--status", "rejected"], env=ENV)
    assert result.exit_code == 2
    assert "give --decisions PATH" in result.stderr
    assert not (bundled_data_dir() / "decisions.yaml").exists()
    written = tmp_path / "mine.yaml"
    result = CliRunner().invoke(
        app, ["decide", "unir", "--status", "rejected", "--decisions", str(written)], env=ENV
    )
    assert result.exit_code == 0, result.output
    assert "enterprise: unir" in written.read_text(encoding="utf-8")
