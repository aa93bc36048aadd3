"""Weights: defaults, YAML files validated like data, per-run overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.errors import DataError, UsageError
from implant_match.weights import Weights, load_weights

from .factories import bundled


def test_defaults_are_normalised() -> None:
    normalised = Weights().normalised()
    assert sum(normalised[p] for p in ("themes", "text", "keywords", "meaning")) == pytest.approx(
        1.0
    )
    assert normalised["complementarity"] == 0.10


def test_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text("themes: 2\ntext: 1\n", encoding="utf-8")
    weights = load_weights(path, ["keywords=1", "meaning=0", "complementarity=0,2"])
    assert (weights.themes, weights.text, weights.keywords) == (2, 1, 1)
    assert weights.complementarity == 0.2
    assert weights.normalised()["themes"] == pytest.approx(0.5)


def test_bad_weight_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_text("themes: 0.4\ntexte: 0.3\nkeywords: beaucoup\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_weights(path)
    lines = [p.format() for p in caught.value.problems]
    assert lines[0].startswith(f"{path}:2:1: error: unknown field 'texte'")
    assert "did you mean 'text'" in lines[0]
    assert lines[1].startswith(f"{path}:3:11: error: keywords:")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("theme=0.5", "unknown weight 'theme'; did you mean 'themes'?"),
        ("themes", "is not of the form NAME=VALUE"),
        ("themes=lots", "'lots' is not a number"),
        ("complementarity=2", "complementarity"),
        ("themes=-1", "themes"),
    ],
)
def test_bad_overrides(override: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_weights(None, [override])


def test_all_zero_evidence_weights_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="all zero"):
        Weights(themes=0, text=0, keywords=0, meaning=0).normalised()


def test_cli_weight_changes_the_scores() -> None:
    args = [
        "rank",
        "--need",
        "formation-francais-refugies-lyon",
        "--top",
        "1",
        "--format",
        "json",
        "--no-stability",
        "--needs",
        str(bundled().needs),
        "--enterprises",
        str(bundled().enterprises),
    ]
    runner = CliRunner()
    base = runner.invoke(app, args)
    themes_only = runner.invoke(app, [*args, "--weight", "text=0", "--weight", "keywords=0"])
    assert base.exit_code == themes_only.exit_code == 0
    assert '"text": 0.0' in themes_only.stdout
    bad = runner.invoke(app, [*args, "--weight", "colour=1"])
    assert bad.exit_code == 2
    assert "unknown weight 'colour'" in bad.output
