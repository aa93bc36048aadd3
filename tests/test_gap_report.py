"""Gaps: needs without a sufficient answer and priority themes nobody covers."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.gap_report import find_gaps
from implant_match.ranking import Engine
from implant_match.weights import Weights

from .factories import bundled, bundled_dataset, make_dataset, needs_document


def test_bundled_data_names_real_unmet_priorities() -> None:
    engine = Engine(bundled_dataset())
    report = find_gaps(engine, Weights())
    assert ("metropole-lyon", "mobilites") in {
        (g.territory_id, g.theme_id) for g in report.priorities_without_need
    }
    for gap in report.needs:
        assert gap.best is None or gap.best.score < report.threshold
        assert gap.shortfall > 0
    keys = [(g.need.priority.weight, g.shortfall) for g in report.needs]
    assert keys == sorted(keys, key=lambda k: (-k[0], -k[1]))


def test_threshold_and_priority_order(tmp_path: Path) -> None:
    needs = needs_document()
    needs["territories"][1]["priority_themes"] = ["migrations"]
    engine = Engine(make_dataset(needs=needs))
    report = find_gaps(engine, Weights(), threshold=101)
    assert {g.need.id for g in report.needs} == {n.id for n in engine.dataset.needs}
    assert report.needs[0].need.priority.value == "high"
    grenoble = {(g.territory_id, g.theme_id) for g in report.priorities_without_need}
    assert ("grenoble", "migrations") in grenoble
    assert not find_gaps(engine, Weights(), threshold=0).needs


def test_priority_theme_without_any_enterprise(tmp_path: Path) -> None:
    from .factories import enterprises_document

    ents = enterprises_document()
    ents["enterprises"] = [e for e in ents["enterprises"] if e["id"] != "velo"]
    engine = Engine(make_dataset(enterprises=ents))
    report = find_gaps(engine, Weights())
    assert ("lyon", "mobilites") in {
        (g.territory_id, g.theme_id) for g in report.priorities_without_enterprise
    }


def test_gaps_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "gaps",
            "--format",
            "json",
            "--threshold",
            "90",
            "--needs",
            str(bundled().needs),
            "--enterprises",
            str(bundled().enterprises),
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["threshold"] == 90
    assert document["needs"]
    first = document["needs"][0]
    assert {
        "need_id",
        "priority",
        "shortfall",
        "best_enterprise_id",
        "best_score",
        "missing_themes",
        "missing_keywords",
    } <= set(first)
    assert {"territory": "metropole-lyon", "theme": "mobilites"} in document[
        "priorities_without_need"
    ]


def test_known_best_candidates_are_not_scored_again() -> None:
    engine = Engine(make_dataset())
    weights = Weights()
    everything = find_gaps(engine, weights, 101.0)
    need = everything.needs[0].need
    # a caller that knows the need has no eligible candidate: taken as said, not rescored
    found = find_gaps(engine, weights, 101.0, needs=[need], known={need.id: None})
    assert [(g.need.id, g.best) for g in found.needs] == [(need.id, None)]
    # the best a shortlist found is the best find_gaps finds itself
    best = {g.need.id: g.best for g in everything.needs}
    assert find_gaps(engine, weights, 101.0, known=best) == everything
