"""What local actors declare (partner, competitor, saturated) overrides the duplication
computed from themes and text, in the ranking and in the explanation alike."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.errors import DataError
from implant_match.scoring import COMPETITOR_THRESHOLD

from .factories import enterprises_document, needs_document, write_dataset

ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb", "IMPLANT_MATCH_CACHE": "off"}

# an actor doing exactly what Langues Ensemble does: a competitor by themes and text
TWIN = {
    "id": "cours-lyon",
    "name": "Cours pour tous Lyon",
    "themes": ["francais", "migrations"],
    "description": "Cours de français langue étrangère pour les exilés.",
}


def needs_with(**declared: Any) -> dict[str, Any]:
    document = copy.deepcopy(needs_document())
    document["territories"][0]["local_actors"] = [{**TWIN, **declared}]
    return document


def explained(needs: dict[str, Any]) -> im.Explanation:
    ds = im.Dataset.from_records(needs, enterprises_document())
    return im.explain(ds, "langues", "fle-lyon")


def complementarity(explanation: im.Explanation) -> float:
    match = explanation.match
    assert match is not None
    return match.component("complementarity").points


def test_undeclared_twin_is_a_competitor() -> None:
    plain = explained(needs_with())
    assert complementarity(plain) < 0
    (competitor,) = plain.to_dict()["competitors"]
    assert competitor["actor_id"] == "cours-lyon"
    assert competitor["declaration"] is None


@pytest.mark.parametrize(
    ("declared", "declaration", "named"),
    [
        (
            {"relations": [{"relation": "partner", "enterprises": ["langues"]}]},
            "partner",
            "langues",
        ),
        (
            {"relations": [{"relation": "partner", "themes": ["migrations"]}]},
            "partner",
            "migrations",
        ),
        ({"saturated": True}, "saturated", None),
    ],
)
def test_a_declaration_turns_the_competitor_into_a_partner(
    declared: dict[str, Any], declaration: str, named: str | None
) -> None:
    plain = explained(needs_with())
    partner = explained(needs_with(**declared))
    assert complementarity(partner) == 0.0
    assert partner.match is not None and plain.match is not None
    assert partner.match.score > plain.match.score
    assert partner.match.score == pytest.approx(plain.match.score - complementarity(plain))
    record = partner.to_dict()
    assert record["competitors"] == []
    (link,) = [p for p in record["partners"] if p["actor_id"] == "cours-lyon"]
    assert (link["declaration"], link["declared_for"]) == (declaration, named)
    # the ranking uses the same duplication as the explanation
    ds = im.Dataset.from_records(needs_with(**declared), enterprises_document())
    (fit,) = [
        f for f in im.rank(ds, need="fle-lyon", stability=False) if f.enterprise_id == "langues"
    ]
    assert fit.score == pytest.approx(partner.match.score)


def test_the_enterprise_declaration_wins_over_the_theme_one() -> None:
    both = explained(
        needs_with(
            relations=[
                {"relation": "partner", "themes": ["migrations"]},
                {"relation": "competitor", "enterprises": ["langues"]},
            ]
        )
    )
    (competitor,) = both.to_dict()["competitors"]
    assert (competitor["declaration"], competitor["declared_for"]) == ("competitor", "langues")
    assert complementarity(both) < 0


def test_a_declared_competitor_duplicates_at_least_the_threshold() -> None:
    far = {**TWIN, "themes": ["mobilites"], "description": "Location de vélos."}
    document = copy.deepcopy(needs_document())
    document["territories"][0]["local_actors"] = [far]
    assert explained(document).to_dict()["competitors"] == []
    far["relations"] = [{"relation": "competitor", "enterprises": ["langues"]}]
    declared = explained(document)
    (competitor,) = declared.to_dict()["competitors"]
    assert competitor["duplication"] == pytest.approx(COMPETITOR_THRESHOLD)
    assert complementarity(declared) < 0


def test_explain_says_which_declaration_applied(tmp_path: Path) -> None:
    data = []
    for folder, declared in (
        ("plain", {}),
        ("partner", {"relations": [{"relation": "partner", "enterprises": ["langues"]}]}),
    ):
        paths = write_dataset(tmp_path / folder, needs_with(**declared))
        data.append(["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)])
    before = CliRunner().invoke(app, ["explain", "langues", "fle-lyon", *data[0]], env=ENV)
    after = CliRunner().invoke(app, ["explain", "langues", "fle-lyon", *data[1]], env=ENV)
    assert "competitor: Cours pour tous Lyon" in before.stdout
    assert "declared" not in before.stdout
    assert (
        "partner: Cours pour tous Lyon (shares francais, migrations, same beneficiaries) — "
        "declared partner of Langues Ensemble: no duplication penalty"
    ) in " ".join(after.stdout.split())  # the line wraps at the console's width
    assert "competitor: Cours pour tous Lyon" not in after.stdout


def test_relations_name_known_ids_and_something() -> None:
    bad = needs_with(
        relations=[
            {"relation": "partner", "enterprises": ["langue"]},
            {"relation": "ally", "themes": ["migrations"]},
            {"relation": "partner"},
        ]
    )
    with pytest.raises(DataError) as caught:
        im.Dataset.from_records(bad, enterprises_document())
    messages = sorted(p.message for p in caught.value.problems if p.is_error)
    assert len(messages) == 3
    assert "unknown enterprise 'langue'; did you mean 'langues'?" in messages
    assert any("'ally' is not allowed" in m for m in messages)
    assert any("a relation needs 'themes' or 'enterprises'" in m for m in messages)


def test_a_saturated_actor_is_named_only_for_those_doing_the_same_work() -> None:
    ds = im.Dataset.from_records(needs_with(saturated=True), enterprises_document())
    twin = im.explain(ds, "langues", "fle-lyon").to_dict()
    assert [(p["actor_id"], p["declaration"]) for p in twin["partners"]] == [
        ("cours-lyon", "saturated")
    ]
    unrelated = im.explain(ds, "velo", "fle-lyon").to_dict()
    assert [p["actor_id"] for p in unrelated["partners"] + unrelated["competitors"]] == []
