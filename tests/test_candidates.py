"""Several candidate files: a shared base plus a team's additions rank together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.errors import DataError
from tests.factories import enterprises_document, needs_document


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    base, extra = enterprises_document(), enterprises_document()
    base["enterprises"] = base["enterprises"][:2]
    extra["enterprises"] = [
        {
            "id": "cours-pour-tous",
            "name": "Cours pour tous",
            "origin": "Lille",
            "description": "Cours de français pour personnes réfugiées, FLE et alphabétisation.",
            "themes": ["francais"],
        }
    ]
    return {
        "needs": write(tmp_path / "needs.yaml", needs_document()),
        "base": write(tmp_path / "base" / "enterprises.yaml", base),
        "extra": write(tmp_path / "team" / "ours.yaml", extra),
    }


def test_two_candidate_files_rank_together(files: dict[str, Path]) -> None:
    ds = im.load_dataset(files["needs"], enterprises=[files["base"], files["extra"]])
    assert [e.id for e in ds.enterprises] == ["cantine", "cours-pour-tous", "langues"]
    ranked = {f.enterprise_id for f in im.rank(ds, need="fle-lyon", top=5)}
    assert {"langues", "cours-pour-tous"} <= ranked


def test_a_folder_stands_for_its_yaml_files_sorted(files: dict[str, Path]) -> None:
    write(files["extra"].parent / "a-first.yaml", {"schema_version": 1, "enterprises": []})
    (files["extra"].parent / "notes.txt").write_text("not data", "utf-8")
    write(files["extra"].parent / "needs.yaml", needs_document())  # not a candidate file
    from implant_match.loading import resolve_paths

    resolved = resolve_paths(files["needs"], [files["base"], files["extra"].parent])
    assert resolved.enterprise_files == (
        files["base"],
        files["extra"].parent / "a-first.yaml",
        files["extra"],
    )
    ds = im.load_dataset(files["needs"], enterprises=[files["base"], files["extra"].parent])
    assert len(ds.enterprises) == 3


def test_a_duplicate_id_across_files_names_both_places(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy = enterprises_document()
    copy["enterprises"] = [copy["enterprises"][2], copy["enterprises"][0]]  # velo, langues
    write(tmp_path / "team" / "ours.yaml", copy)
    with pytest.raises(DataError) as caught:
        im.load_dataset("needs.yaml", enterprises=["base/enterprises.yaml", "team/ours.yaml"])
    errors = [p.format() for p in caught.value.problems if p.is_error]
    # langues is on line 4 of base/enterprises.yaml (its id) and item 2 of team/ours.yaml
    first_line = next(
        i
        for i, line in enumerate(Path("base/enterprises.yaml").read_text("utf-8").splitlines(), 1)
        if "id: langues" in line
    )
    second_line = next(
        i
        for i, line in enumerate(Path("team/ours.yaml").read_text("utf-8").splitlines(), 1)
        if "id: langues" in line
    )
    assert errors == [
        f"team/ours.yaml:{second_line}:7: error: duplicate enterprise id 'langues' (first "
        f"defined in base/enterprises.yaml:{first_line}) (ids must be unique across the "
        "candidate files)"
    ]


def test_the_cli_takes_enterprises_several_times(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            "--needs",
            str(files["needs"]),
            "--enterprises",
            str(files["base"]),
            "--enterprises",
            str(files["extra"]),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["files"][1:] == [str(files["base"]), str(files["extra"])]
    ranked = CliRunner().invoke(
        app,
        [
            "rank",
            "--needs",
            str(files["needs"]),
            "--enterprises",
            str(files["base"]),
            "--enterprises",
            str(files["extra"].parent),
            "--need",
            "fle-lyon",
            "--format",
            "json",
        ],
    )
    assert ranked.exit_code == 0, ranked.output
    assert "cours-pour-tous" in {f["enterprise_id"] for f in json.loads(ranked.stdout)}


def test_a_near_duplicate_name_across_files_is_a_warning(files: dict[str, Path]) -> None:
    extra = enterprises_document()
    extra["enterprises"] = [{**extra["enterprises"][0], "id": "langues-ensemble"}]
    write(files["extra"], extra)
    from implant_match.dataset import inspect_files
    from implant_match.loading import resolve_paths

    found = inspect_files(resolve_paths(files["needs"], [files["base"], files["extra"]]))
    warnings = [p for p in found.problems if not p.is_error and "enterprise name" in p.message]
    assert [(p.path, p.message) for p in warnings] == [
        (
            str(files["extra"]),
            "enterprise name 'Langues Ensemble' is very close to 'langues' "
            f"({files['base']}:4): the same enterprise twice?",
        )
    ]


def test_a_needs_path_that_is_a_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        im.load_dataset(tmp_path, enterprises=[write(tmp_path / "e.yaml", enterprises_document())])
    assert [p.message for p in caught.value.problems] == ["is a folder, not a YAML file"]
